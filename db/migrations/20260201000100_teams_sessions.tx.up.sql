-- Teams and sessions (CONTRACT §5): agents can be deactivated, a third role (ADMIN),
-- sign-in sessions with rotating refresh tokens, and invitations. Secrets (refresh
-- and invitation tokens) are stored only as SHA-256 hashes.

ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;

--bun:split

ALTER TABLE users DROP CONSTRAINT users_role_check;

--bun:split

ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('OWNER', 'ADMIN', 'AGENT'));

--bun:split

-- Agents of a company by name (agents(includeInactive)).
CREATE INDEX users_agent_name_idx ON users (company_id, first_name, last_name, id) WHERE kind = 'AGENT';

--bun:split

-- One row per sign-in. Its access tokens carry its id (claim "sid"); once revoked_at
-- is set, every instance refuses them (the revocation set in memory, fed by NOTIFY).
CREATE TABLE sessions (
    id                 uuid PRIMARY KEY,
    company_id         bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id            bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL,
    last_used_at       timestamptz NOT NULL,
    refresh_expires_at timestamptz NOT NULL,
    revoked_at         timestamptz,
    revoked_reason     text
);

--bun:split

CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;

--bun:split

-- What each instance loads at start and after a listener gap.
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

--bun:split

-- The refresh tokens of a session: the live one has rotated_at NULL; the rotated
-- ones stay (until the session's end) so that presenting one again is detected as
-- reuse, which revokes the session.
CREATE TABLE refresh_tokens (
    token_hash  bytea       PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    replaced_by bytea
);

--bun:split

CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

--bun:split

CREATE TABLE invitations (
    id               bigserial PRIMARY KEY,
    company_id       bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    email            text        NOT NULL,
    first_name       text        NOT NULL,
    last_name        text        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('ADMIN', 'AGENT')),
    token_hash       bytea       NOT NULL UNIQUE,
    invited_by       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    accepted_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    revoked_at       timestamptz
);

--bun:split

-- At most one open invitation per company and email: inviting again replaces it.
CREATE UNIQUE INDEX invitations_open_email_key ON invitations (company_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
