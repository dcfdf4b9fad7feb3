-- Labels and canned responses (CONTRACT §6). A label belongs to one company; its
-- name is unique in the company without regard to case, so VIP and vip are one.

CREATE TABLE labels (
    id         bigserial PRIMARY KEY,
    company_id bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    color      text        NOT NULL DEFAULT '#1f93ff' CHECK (color ~ '^#[0-9a-f]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- Names are looked up (and made unique) by (company, lower(name)): addLabels upserts
-- on it, the conversation filter resolves names through it.
CREATE UNIQUE INDEX labels_company_name_key ON labels (company_id, lower(name));

--bun:split

-- The labels of a conversation. company_id scopes the loader's lookups by tenant.
-- The primary key serves a conversation's labels and the list filter's probe per
-- conversation (walking the inbox in order); the second index serves the other
-- direction: a label's conversations (counts, the filter of a rare label).
CREATE TABLE conversation_labels (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    label_id        bigint NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    company_id      bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, label_id)
);

--bun:split

CREATE INDEX conversation_labels_label_idx ON conversation_labels (label_id, conversation_id);

--bun:split

CREATE TABLE canned_responses (
    id         bigserial PRIMARY KEY,
    company_id bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    short_code text        NOT NULL CHECK (short_code ~ '^[a-z0-9_-]{1,30}$'),
    content    text        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 4096),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, short_code)
);
