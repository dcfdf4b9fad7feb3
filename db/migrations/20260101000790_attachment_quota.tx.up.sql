-- The media quota (MEDIA_QUOTA_PER_COMPANY) sums a company's stored files, each
-- storage key once (copies of a file sent twice share one): an index-only scan of the
-- company's part of this index. The purge of uploads never sent also asks it whether a
-- deleted row's file is still held by another row of the company.
CREATE INDEX attachments_company_storage_idx ON attachments (company_id, storage_key) INCLUDE (filesize)
    WHERE storage_key IS NOT NULL;

--bun:split

-- Uploads never attached to a message are removed after a day
-- (resolvers.PurgeUnattachedUploads), oldest first.
CREATE INDEX attachments_unattached_idx ON attachments (created_at) WHERE message_id IS NULL;
