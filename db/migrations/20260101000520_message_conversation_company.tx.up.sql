-- A message belongs to its conversation's company, as a constraint rather than a
-- habit of the code that inserts messages. Reads rely on it: a page of messages
-- filtered by (conversation, company) that is not empty proves the conversation is
-- the company's, so the page needs no separate lookup of the conversation.
ALTER TABLE conversations ADD CONSTRAINT conversations_id_company_key UNIQUE (id, company_id);

--bun:split

ALTER TABLE messages ADD CONSTRAINT messages_conversation_company_fkey
    FOREIGN KEY (conversation_id, company_id) REFERENCES conversations (id, company_id) ON DELETE CASCADE;

--bun:split

-- Implied by the new key, with the same ON DELETE CASCADE.
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey;
