-- Outgoing webhooks (CONTRACT §7). An endpoint reads its company's event log from
-- its own position (pos_xid, pos_id); the dispatcher turns the events it wants
-- into deliveries and moves the position, in one transaction under the endpoint's
-- row lock, so each event becomes one delivery per endpoint however many instances
-- run. The secret is stored as given out (it must sign): the database is trusted
-- with it as with the provider's token.
CREATE TABLE webhook_endpoints (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id      bigint      NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    url             text        NOT NULL,
    secret          text        NOT NULL,
    event_types     text[]      NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_at     timestamptz,
    disabled_reason text,
    failing_since   timestamptz,
    pos_xid         bigint      NOT NULL DEFAULT 0,
    pos_id          bigint      NOT NULL DEFAULT 0,
    -- the dispatcher's lease on the endpoint (claim), not its correctness: the
    -- fan-out transaction locks the row.
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE INDEX webhook_endpoints_company_idx ON webhook_endpoints (company_id, id);

--bun:split

-- One delivery per (endpoint, event), or per ping. webhook_id is the
-- webhook-id header: the event id ("evt_<id>") or the ping's ("ping_<id>").
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    company_id      bigint      NOT NULL,
    webhook_id      text        NOT NULL,
    type            text        NOT NULL CHECK (type IN ('message.added', 'message.status_changed', 'conversation.updated', 'ping')),
    conversation_id bigint,
    message_id      uuid,
    occurred_at     timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELLED')),
    attempts        int         NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- Due deliveries (the claim).
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (run_at) WHERE state = 'PENDING';

--bun:split

-- An endpoint's claims (its limit of deliveries in flight): a recorded attempt
-- clears locked_until, so this stays as small as the work in flight.
CREATE INDEX webhook_deliveries_claimed_idx ON webhook_deliveries (endpoint_id, locked_until)
    WHERE state = 'PENDING' AND locked_until IS NOT NULL;

--bun:split

-- An endpoint's pending deliveries (cancelled when it is disabled).
CREATE INDEX webhook_deliveries_endpoint_pending_idx ON webhook_deliveries (endpoint_id) WHERE state = 'PENDING';

--bun:split

-- Every attempt of a delivery: the delivery log webhookDeliveries pages through,
-- newest first.
CREATE TABLE webhook_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id     bigint      NOT NULL,
    attempt         int         NOT NULL,
    http_status     int,
    duration_ms     int         NOT NULL,
    error           text,
    response_body   text,
    next_attempt_at timestamptz,
    attempted_at    timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id DESC);
