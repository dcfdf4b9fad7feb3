-- The parameters a template message was sent with (the provider needs them again to
-- send by content id).
ALTER TABLE messages ADD COLUMN IF NOT EXISTS template_params text[];
