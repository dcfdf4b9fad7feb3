-- Templates from Twilio's Content API (CONTRACT §8). Synced templates are shared by
-- every company (company_id NULL), keyed by content_sid; a sync touches only rows it
-- made (synced), never the migrations' or hand-made ones. A template deleted at
-- Twilio is soft-deleted: lists and sends drop it, messages that used it keep it.
-- Rows that did not come from the Content API count as APPROVED.
ALTER TABLE templates
    ADD COLUMN IF NOT EXISTS synced          boolean     NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS category        text,
    ADD COLUMN IF NOT EXISTS approval_status text        NOT NULL DEFAULT 'APPROVED'
        CHECK (approval_status IN ('APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'UNSUBMITTED')),
    ADD COLUMN IF NOT EXISTS variables       text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS deleted_at      timestamptz,
    ADD COLUMN IF NOT EXISTS updated_at      timestamptz NOT NULL DEFAULT now();

--bun:split

ALTER TABLE templates ADD CONSTRAINT templates_synced_shared CHECK (NOT synced OR (company_id IS NULL AND content_sid IS NOT NULL));

--bun:split

CREATE UNIQUE INDEX IF NOT EXISTS templates_synced_content_sid_idx ON templates (content_sid) WHERE synced;
