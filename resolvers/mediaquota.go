package resolvers

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// UnattachedUploadTTL is how long an upload that no message carries is kept: a day,
// like the signed link uploadMedia gives out.
const UnattachedUploadTTL = 24 * time.Hour

// purgeBatch is how many attachments one purge statement deletes, so that no
// transaction holds many row locks or runs long.
const purgeBatch = 500

// recordUpload records an uploaded file's attachment. Under MEDIA_QUOTA_PER_COMPANY
// the quota is checked and the row inserted under a per-company lock, so concurrent
// uploads of one company are counted one after another and never overshoot it.
func (r *Resolver) recordUpload(ctx context.Context, att *db.Attachment) error {
	if r.Media.Quota <= 0 {
		return db.InsertAttachment(ctx, r.DB, att)
	}
	return r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.LockCompanyMedia(ctx, tx, att.CompanyID); err != nil {
			return err
		}
		if err := r.checkMediaQuota(ctx, tx, att.CompanyID, att.Filesize); err != nil {
			return err
		}
		return db.InsertAttachment(ctx, tx, att)
	})
}

// checkMediaQuota returns QUOTA_EXCEEDED when the company's stored files plus size
// more bytes would be over MEDIA_QUOTA_PER_COMPANY (with size 0: when it is already
// full). Only uploads are checked: media that customers send are always kept.
func (r *Resolver) checkMediaQuota(ctx context.Context, idb bun.IDB, companyID, size int64) error {
	quota := r.Media.Quota
	if quota <= 0 {
		return nil
	}
	used, err := db.CompanyMediaUsage(ctx, idb, companyID)
	if err != nil {
		return err
	}
	if used+size > quota || used >= quota {
		return apperr.New(apperr.QuotaExceeded,
			"your company's media storage is full (%s of %s used); uploads not sent within a day are removed",
			byteSize(used), byteSize(quota))
	}
	return nil
}

// byteSize writes n bytes for people ("1.5 GiB").
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// PurgeUnattachedUploads removes the uploads that no message carries and that are
// older than UnattachedUploadTTL by the Resolver's clock: their rows first, then, once
// the rows are gone for good, the files no other attachment holds (a file already
// gone is fine; a file that cannot be deleted is logged and left). It returns how
// many attachments it removed. Any number of instances may run it at once (the rows
// are claimed with SKIP LOCKED). It is meant to run periodically (e.g. hourly) as
// background work; nothing here schedules it.
func (r *Resolver) PurgeUnattachedUploads(ctx context.Context) (int, error) {
	cutoff := r.now().Add(-UnattachedUploadTTL)
	total := 0
	for {
		// One statement, committed on its own, before any file is touched: a crash
		// in between leaves a stray file, never a row without its file.
		n, keys, err := db.DeleteUnattachedAttachments(ctx, r.DB, cutoff, purgeBatch)
		if err != nil {
			return total, err
		}
		total += n
		for _, k := range keys {
			if err := r.Media.Storage.Delete(context.WithoutCancel(ctx), k); err != nil && r.Log != nil {
				r.Log.WarnContext(ctx, "purge unattached uploads: file not deleted", "err", err.Error())
			}
		}
		if n < purgeBatch {
			return total, nil
		}
	}
}
