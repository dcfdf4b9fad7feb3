-- The whole domain of CONTRACT §1, with the indexes designed for the hot reads.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

--bun:split

CREATE TABLE companies (
    id              bigserial PRIMARY KEY,
    name            text        NOT NULL,
    whatsapp_number text        UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- Agents and contacts are both users (the legacy API {userId, firstName, lastName, phone}).
-- Agents belong to a company and log in; contacts belong to the company that talks to
-- them, so edits by one company never show in the inbox of another.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    company_id    bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('AGENT', 'CONTACT')),
    first_name    text        NOT NULL DEFAULT '',
    last_name     text        NOT NULL DEFAULT '',
    phone         text,
    email         text,
    password_hash text,
    role          text CHECK (role IN ('OWNER', 'AGENT')),
    name_edited   boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'AGENT') = (email IS NOT NULL AND password_hash IS NOT NULL AND role IS NOT NULL))
);

--bun:split

CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;

--bun:split

-- A contact is found by (company, phone): one row per phone number per company.
CREATE UNIQUE INDEX users_contact_phone_key ON users (company_id, phone) WHERE kind = 'CONTACT';

--bun:split

CREATE INDEX users_contact_name_idx ON users (company_id, first_name, last_name, id) WHERE kind = 'CONTACT';

--bun:split

CREATE TABLE channels (
    id   integer PRIMARY KEY,
    name text    NOT NULL UNIQUE
);

--bun:split

INSERT INTO channels (id, name) VALUES (1, 'WHATSAPP');

--bun:split

CREATE TABLE conversations (
    id                     bigserial PRIMARY KEY,
    company_id             bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id                bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id             integer     NOT NULL REFERENCES channels (id),
    last_update_time       timestamptz,
    last_free_message_time timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, user_id, channel_id)
);

--bun:split

-- The inbox of a company: most recently updated first, nulls last, keyset on id.
CREATE INDEX conversations_company_updated_idx
    ON conversations (company_id, last_update_time DESC NULLS LAST, id DESC);

--bun:split

CREATE TABLE templates (
    id          bigserial PRIMARY KEY,
    company_id  bigint REFERENCES companies (id) ON DELETE CASCADE, -- NULL: shared by every company
    name        text        NOT NULL,
    language    text        NOT NULL DEFAULT 'en',
    content     text        NOT NULL,
    content_sid text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE INDEX templates_company_idx ON templates (company_id, id);

--bun:split

INSERT INTO templates (id, company_id, name, language, content) VALUES
    (1, NULL, 'demo_account', 'en', 'Hi {{1}}! Thanks for contacting Us.  We are happy to create your demo account and will send you login credentials shortly..'),
    (2, NULL, 'order_shipped', 'en', 'Your {{1}} order of {{2}} has shipped and should be delivered on {{3}}. Details : {{4}}');

--bun:split

SELECT setval(pg_get_serial_sequence('templates', 'id'), 100, false);

--bun:split

-- Messages: id is a time-ordered UUIDv7, shown as 32 lowercase hex characters.
-- status_rank orders the forward-only statuses (see db/messages.go).
CREATE TABLE messages (
    id              uuid        PRIMARY KEY,
    company_id      bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender_id       bigint      REFERENCES users (id) ON DELETE SET NULL,
    direction       text        NOT NULL CHECK (direction IN ('SENT', 'RECEIVED')),
    message_type    text        NOT NULL DEFAULT 'TEXT' CHECK (message_type IN ('TEXT', 'MEDIA', 'TEMPLATE')),
    content         text,
    template_id     bigint      REFERENCES templates (id) ON DELETE SET NULL,
    datetime        timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'QUEUED', 'SENT', 'DELIVERED', 'READ', 'FAILED', 'UNDELIVERED')),
    provider_sid    text,
    error_code      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    search          tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(content, ''))) STORED
);

--bun:split

-- The messages of a conversation, newest first, by keyset (datetime, id).
CREATE INDEX messages_conversation_datetime_idx ON messages (conversation_id, datetime DESC, id DESC);

--bun:split

-- Provider ids are unique: the inbound webhook is idempotent on MessageSid by this index.
CREATE UNIQUE INDEX messages_provider_sid_key ON messages (provider_sid) WHERE provider_sid IS NOT NULL;

--bun:split

-- Unread = received and not yet READ; a small partial index serves unreadCount.
CREATE INDEX messages_unread_idx ON messages (conversation_id) WHERE direction = 'RECEIVED' AND status <> 'READ';

--bun:split

CREATE INDEX messages_search_idx ON messages USING gin (search);

--bun:split

CREATE INDEX messages_content_trgm_idx ON messages USING gin (content gin_trgm_ops);

--bun:split

CREATE INDEX messages_company_datetime_idx ON messages (company_id, datetime DESC, id DESC);

--bun:split

CREATE TABLE attachments (
    id             bigserial PRIMARY KEY,
    company_id     bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    message_id     uuid        REFERENCES messages (id) ON DELETE SET NULL,
    ord            integer,
    type           text        NOT NULL CHECK (type IN ('IMAGE', 'VIDEO', 'AUDIO', 'DOCUMENT')),
    filename       text        NOT NULL DEFAULT '',
    filesize       bigint      NOT NULL DEFAULT 0,
    content_type   text        NOT NULL DEFAULT 'application/octet-stream',
    storage_key    text,
    source_url     text,
    state          text        NOT NULL DEFAULT 'STORED' CHECK (state IN ('STORED', 'PENDING', 'FAILED')),
    attempts       integer     NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE INDEX attachments_message_idx ON attachments (message_id, ord, id) WHERE message_id IS NOT NULL;

--bun:split

CREATE INDEX attachments_pending_idx ON attachments (created_at) WHERE state = 'PENDING';

--bun:split

-- The delivery outbox: written in the same transaction as the message it sends,
-- claimed by workers with FOR UPDATE SKIP LOCKED.
CREATE TABLE deliveries (
    message_id   uuid        PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    company_id   bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    attempts     integer     NOT NULL DEFAULT 0,
    run_at       timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE INDEX deliveries_run_at_idx ON deliveries (run_at);

--bun:split

-- Status callbacks that arrived before the send call recorded the provider id.
CREATE TABLE early_statuses (
    provider_sid text        NOT NULL,
    status       text        NOT NULL,
    error_code   text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_sid, status)
);
