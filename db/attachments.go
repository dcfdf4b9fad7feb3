package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Attachment states: STORED files are in our storage; PENDING inbound media still
// live only at the provider (source_url) until the fetcher downloads them; FAILED
// ones could not be downloaded or were refused.
const (
	AttachmentStored  = "STORED"
	AttachmentPending = "PENDING"
	AttachmentFailed  = "FAILED"
)

// MediaChannel is the NOTIFY channel that wakes the media fetcher when inbound media
// are recorded PENDING. The notification is only a hint; the fetcher reads the table.
const MediaChannel = "connectme_media"

// InsertAttachment stores a new attachment and fills a with the stored row.
func InsertAttachment(ctx context.Context, idb bun.IDB, a *Attachment) error {
	if _, err := idb.NewInsert().Model(a).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("insert attachment: %w", err)
	}
	return nil
}

// AttachmentByID returns an attachment of the company. It returns ErrNotFound when no
// attachment has that id and ErrForeign when it belongs to another company; callers
// answer both the same way so that existence does not leak.
func AttachmentByID(ctx context.Context, idb bun.IDB, companyID, id int64) (*Attachment, error) {
	a, err := AttachmentByIDAnyCompany(ctx, idb, id)
	if err != nil {
		return nil, err
	}
	if a.CompanyID != companyID {
		return nil, ErrForeign
	}
	return a, nil
}

// AttachmentByIDAnyCompany returns an attachment whatever its company. Only callers
// that have already proved access some other way (a signed link) may use it.
func AttachmentByIDAnyCompany(ctx context.Context, idb bun.IDB, id int64) (*Attachment, error) {
	a := new(Attachment)
	if err := idb.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err)
	}
	return a, nil
}

// ClaimPendingAttachments claims up to limit pending attachments that are due at now
// for downloading. Each claim counts as an attempt and pushes the attachment's next
// try to now+lease, so concurrent workers (SKIP LOCKED) never take the same one and an
// attempt lost with a crashed worker is retried when the lease runs out.
func ClaimPendingAttachments(ctx context.Context, idb bun.IDB, now time.Time, lease time.Duration, limit int) ([]*Attachment, error) {
	var out []*Attachment
	err := idb.NewRaw(`
		UPDATE attachments SET attempts = attempts + 1, next_fetch_at = ?
		WHERE id IN (
			SELECT id FROM attachments
			WHERE state = 'PENDING' AND next_fetch_at <= ?
			ORDER BY next_fetch_at, id
			LIMIT ?
			FOR UPDATE SKIP LOCKED)
		RETURNING *`, now.Add(lease), now, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("claim pending attachments: %w", err)
	}
	return out, nil
}

// StoredFile is where and what a downloaded file is.
type StoredFile struct {
	Key         string
	Size        int64
	ContentType string
	Type        string
	// Filename names an attachment that came without a name ("file.jpg").
	Filename string
}

// MarkAttachmentStored records that a pending attachment's file is now in storage.
// It reports false when the attachment is no longer pending (another worker stored
// it after this one's lease ran out), so the caller can drop its copy.
func MarkAttachmentStored(ctx context.Context, idb bun.IDB, id int64, f StoredFile) (bool, error) {
	res, err := idb.NewRaw(`
		UPDATE attachments
		SET state = 'STORED', storage_key = ?, filesize = ?, content_type = ?, type = ?, last_error = NULL,
			filename = CASE WHEN filename = '' THEN ? ELSE filename END
		WHERE id = ? AND state = 'PENDING'`, f.Key, f.Size, f.ContentType, f.Type, f.Filename, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark attachment stored: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetryAttachmentFetch schedules another download of a pending attachment at next.
func RetryAttachmentFetch(ctx context.Context, idb bun.IDB, id int64, next time.Time, reason string) error {
	_, err := idb.NewRaw(`
		UPDATE attachments SET next_fetch_at = ?, last_error = ?
		WHERE id = ? AND state = 'PENDING'`, next, reason, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("schedule attachment fetch: %w", err)
	}
	return nil
}

// FailAttachmentFetch gives up on a pending attachment.
func FailAttachmentFetch(ctx context.Context, idb bun.IDB, id int64, reason string) error {
	_, err := idb.NewRaw(`
		UPDATE attachments SET state = 'FAILED', last_error = ?
		WHERE id = ? AND state = 'PENDING'`, reason, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark attachment failed: %w", err)
	}
	return nil
}

// ReleaseAttachmentClaim hands a claimed attachment back without counting the attempt
// (the worker is stopping), due again at now.
func ReleaseAttachmentClaim(ctx context.Context, idb bun.IDB, id int64, now time.Time) error {
	_, err := idb.NewRaw(`
		UPDATE attachments SET attempts = greatest(attempts - 1, 0), next_fetch_at = ?
		WHERE id = ? AND state = 'PENDING'`, now, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release attachment claim: %w", err)
	}
	return nil
}

// LockCompanyMedia takes a transaction-scoped lock on the company's media usage, so
// that concurrent uploads of one company check the quota and record their file one
// after another. Call it inside a transaction.
func LockCompanyMedia(ctx context.Context, idb bun.IDB, companyID int64) error {
	if _, err := idb.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", fmt.Sprintf("media-quota:%d", companyID)); err != nil {
		return fmt.Errorf("lock company media: %w", err)
	}
	return nil
}

// CompanyMediaUsage returns the bytes the company's stored files take. A file sent
// several times has one attachment row per message but one copy in storage: each
// storage key counts once.
func CompanyMediaUsage(ctx context.Context, idb bun.IDB, companyID int64) (int64, error) {
	var n int64
	err := idb.NewRaw(`
		SELECT coalesce(sum(size), 0) FROM (
			SELECT max(filesize) AS size FROM attachments
			WHERE company_id = ? AND storage_key IS NOT NULL
			GROUP BY storage_key) AS files`, companyID).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("company media usage: %w", err)
	}
	return n, nil
}

// DeleteUnattachedAttachments deletes up to limit attachments that no message carries
// and that were created before cutoff, and returns how many it deleted and the
// storage keys they held that no remaining attachment holds: the files the caller
// may delete once this has committed. A row is deleted only if it is still
// unattached when its lock is taken, so a send that links it at that moment wins.
func DeleteUnattachedAttachments(ctx context.Context, idb bun.IDB, cutoff time.Time, limit int) (deleted int, orphanKeys []string, err error) {
	var rows []struct {
		CompanyID  int64   `bun:"company_id"`
		StorageKey *string `bun:"storage_key"`
	}
	err = idb.NewRaw(`
		DELETE FROM attachments WHERE id IN (
			SELECT id FROM attachments
			WHERE message_id IS NULL AND created_at < ?
			ORDER BY created_at
			LIMIT ?
			FOR UPDATE SKIP LOCKED)
		AND message_id IS NULL
		RETURNING company_id, storage_key`, cutoff, limit).Scan(ctx, &rows)
	if err != nil {
		return 0, nil, fmt.Errorf("delete unattached attachments: %w", err)
	}
	var companies []int64
	var keys []string
	for _, r := range rows {
		if r.StorageKey != nil {
			companies, keys = append(companies, r.CompanyID), append(keys, *r.StorageKey)
		}
	}
	if len(keys) == 0 {
		return len(rows), nil, nil
	}
	// A file sent twice is shared by its copies, all of one company (QueueMessage):
	// keep the files another row still holds.
	err = idb.NewRaw(`
		SELECT DISTINCT u.k FROM unnest(?::bigint[], ?::text[]) AS u(c, k)
		WHERE NOT EXISTS (SELECT 1 FROM attachments AS a WHERE a.company_id = u.c AND a.storage_key = u.k)`,
		pgdialect.Array(companies), pgdialect.Array(keys)).Scan(ctx, &orphanKeys)
	if err != nil {
		return 0, nil, fmt.Errorf("find unreferenced media files: %w", err)
	}
	return len(rows), orphanKeys, nil
}
