-- Messages as WhatsApp sends them, and as clients need them (CONTRACT §8).
--
-- New columns are nullable without defaults (no table rewrite) and no index but the
-- client_message_id one mentions them, so status updates stay HOT.
--
-- The inbound webhook's dropped fields: the provider id of the message replied to
-- (resolved to a message of the same conversation when read, so an id recorded
-- after the reply still resolves), a shared location, the button of an interactive
-- reply, and the click-to-WhatsApp ad the contact came from. The compound values
-- are small JSON objects (keys in db.Location, db.InteractiveReply, db.Referral).
ALTER TABLE messages
    ADD COLUMN reply_to_sid text,
    ADD COLUMN location jsonb,
    ADD COLUMN interactive_reply jsonb,
    ADD COLUMN referral jsonb,
    -- Idempotent sends: the client's id of a message, unique per conversation.
    ADD COLUMN client_message_id text,
    -- Receipts: when the provider reported SENT, DELIVERED and READ (a later status
    -- fills an earlier one still NULL with its own time); for received messages,
    -- when and by which agent it was marked read.
    ADD COLUMN sent_at timestamptz,
    ADD COLUMN delivered_at timestamptz,
    ADD COLUMN read_at timestamptz,
    ADD COLUMN read_by bigint REFERENCES users (id) ON DELETE SET NULL;

--bun:split

ALTER TABLE messages ADD CONSTRAINT messages_location_check CHECK (location IS NULL OR (
    jsonb_typeof(location -> 'latitude') = 'number' AND jsonb_typeof(location -> 'longitude') = 'number'
    AND (location ->> 'latitude')::float8 BETWEEN -90 AND 90
    AND (location ->> 'longitude')::float8 BETWEEN -180 AND 180));

--bun:split

ALTER TABLE messages ADD CONSTRAINT messages_client_message_id_check
    CHECK (client_message_id IS NULL OR char_length(client_message_id) BETWEEN 1 AND 64);

--bun:split

-- A clientMessageId is unique per conversation for good: a retried send inserts
-- with ON CONFLICT DO NOTHING on this index and reads the first message.
CREATE UNIQUE INDEX messages_client_message_id_key ON messages (conversation_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

--bun:split

-- The message types: NOTE (private notes) is added by the workflow's migration too;
-- both list every type, so either may run last.
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_message_type_check;

--bun:split

ALTER TABLE messages ADD CONSTRAINT messages_message_type_check
    CHECK (message_type IN ('TEXT', 'MEDIA', 'TEMPLATE', 'NOTE', 'LOCATION', 'INTERACTIVE_REPLY'));
