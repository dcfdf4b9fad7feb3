-- Template parameters of a TEMPLATE message, in order ({{1}} first). The delivery
-- worker sends them as ContentVariables when the template has a content_sid.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS template_params text[];
