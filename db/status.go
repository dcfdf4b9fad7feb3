package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// StatusRank orders the forward-only statuses; FAILED and UNDELIVERED are terminal
// failures that apply only before DELIVERED.
var StatusRank = map[string]int{
	StatusPending: 0, StatusQueued: 1, StatusSent: 2, StatusDelivered: 3, StatusRead: 4,
}

// IsFailure reports whether status is a terminal failure.
func IsFailure(status string) bool { return status == StatusFailed || status == StatusUndelivered }

// rankSQL is the SQL twin of StatusRank.
const rankSQL = `(CASE status WHEN 'PENDING' THEN 0 WHEN 'QUEUED' THEN 1 WHEN 'SENT' THEN 2 WHEN 'DELIVERED' THEN 3 WHEN 'READ' THEN 4 ELSE 99 END)`

// advance builds the conditional UPDATE that moves a message's status forward only:
// a late or repeated status never moves it back, and a failure applies only before
// DELIVERED and never after another failure.
func advance(idb bun.IDB, status string, errorCode *string) *bun.UpdateQuery {
	limit := StatusRank[status]
	if IsFailure(status) {
		limit = StatusRank[StatusDelivered]
	}
	q := idb.NewUpdate().Model((*Message)(nil)).
		Set("status = ?", status).
		Where(rankSQL+" < ?", limit).
		Returning("id, company_id, conversation_id, status, direction")
	if IsFailure(status) {
		q = q.Set("error_code = ?", errorCode)
	}
	return q
}

// StatusChange is a message whose status moved.
type StatusChange struct {
	ID             uuid.UUID `bun:"id"`
	CompanyID      int64     `bun:"company_id"`
	ConversationID int64     `bun:"conversation_id"`
	Status         string    `bun:"status"`
	Direction      string    `bun:"direction"`
}

// AdvanceStatusByID moves one message of the company forward to status. It returns
// nil when the status did not move (already there or further).
func AdvanceStatusByID(ctx context.Context, idb bun.IDB, companyID int64, id uuid.UUID, status string, errorCode *string) (*StatusChange, error) {
	if _, ok := StatusRank[status]; !ok && !IsFailure(status) {
		return nil, fmt.Errorf("unknown status %q", status)
	}
	var out []StatusChange
	err := advance(idb, status, errorCode).Where("id = ?", id).Where("company_id = ?", companyID).Scan(ctx, &out)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// lockProviderSID serialises, within a transaction, everything done for one provider
// message id: recording it after a send, and applying a status callback for it.
func lockProviderSID(ctx context.Context, tx bun.Tx, sid string) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "sid:"+sid)
	return err
}

// ApplyProviderStatus applies a status callback for a provider message id. When no
// message carries that id yet (the callback beat the send call's answer), the status
// is kept in early_statuses and applied by AttachProviderSIDTx. It returns the change,
// or nil when nothing moved. When the status moved, each of then runs inside the
// transaction (to publish the change with it).
func ApplyProviderStatus(ctx context.Context, bdb *bun.DB, sid, status string, errorCode *string,
	then ...func(context.Context, bun.IDB, *StatusChange) error) (*StatusChange, error) {
	var change *StatusChange
	err := bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockProviderSID(ctx, tx, sid); err != nil {
			return err
		}
		var out []StatusChange
		if err := advance(tx, status, errorCode).Where("provider_sid = ?", sid).Scan(ctx, &out); err != nil {
			return fmt.Errorf("advance status: %w", err)
		}
		if len(out) > 0 {
			change = &out[0]
			for _, f := range then {
				if err := f(ctx, tx, change); err != nil {
					return err
				}
			}
			return nil
		}
		known, err := tx.NewSelect().Model((*Message)(nil)).Where("provider_sid = ?", sid).Exists(ctx)
		if err != nil || known {
			return err
		}
		_, err = tx.NewRaw(`INSERT INTO early_statuses (provider_sid, status, error_code) VALUES (?, ?, ?)
			ON CONFLICT (provider_sid, status) DO NOTHING`, sid, status, errorCode).Exec(ctx)
		return err
	})
	return change, err
}

// AttachProviderSIDTx records the provider's id of a sent message, moves it forward
// to status (QUEUED or SENT, as the send call answered), then applies every status
// callback that arrived before the id was known. It runs in the caller's
// transaction, so the delivery worker also removes its outbox row and publishes the
// change atomically. It returns the final change, or nil when nothing moved.
func AttachProviderSIDTx(ctx context.Context, tx bun.Tx, companyID int64, id uuid.UUID, sid, status string) (*StatusChange, error) {
	if err := lockProviderSID(ctx, tx, sid); err != nil {
		return nil, err
	}
	type early struct {
		Status    string  `bun:"status"`
		ErrorCode *string `bun:"error_code"`
	}
	var earlies []early
	if err := tx.NewRaw(`DELETE FROM early_statuses WHERE provider_sid = ? RETURNING status, error_code`, sid).Scan(ctx, &earlies); err != nil {
		return nil, fmt.Errorf("take early statuses: %w", err)
	}
	var last *StatusChange
	steps := append([]early{{Status: status}}, earlies...)
	if _, known := StatusRank[status]; known && !IsFailure(status) {
		// The id and the answered status in one UPDATE: every row version of a
		// message costs an entry in each of its indexes, two GIN among them.
		ch, err := recordSent(ctx, tx, companyID, id, sid, status)
		if err != nil {
			return nil, err
		}
		last, steps = ch, steps[1:]
	} else if _, err := tx.NewRaw(`WITH sent AS (
			DELETE FROM deliveries WHERE message_id = ? AND company_id = ?
		)
		UPDATE messages SET provider_sid = ? WHERE id = ? AND company_id = ?`,
		id, companyID, sid, id, companyID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record provider sid: %w", err)
	}
	for _, s := range steps {
		ch, err := AdvanceStatusByID(ctx, tx, companyID, id, s.Status, s.ErrorCode)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			last = ch
		}
	}
	return last, nil
}

// recordSent sets a message's provider id and moves its status forward to status
// (not a failure) in one UPDATE, and deletes its delivery row in the same statement.
// It returns the change, or nil when the status did not move.
func recordSent(ctx context.Context, tx bun.Tx, companyID int64, id uuid.UUID, sid, status string) (*StatusChange, error) {
	var out []struct {
		StatusChange
		Old string `bun:"old_status"`
	}
	// SET and the CTE see the row as it was; RETURNING sees it as it is now. A
	// data-modifying CTE runs whether or not the query reads it.
	err := tx.NewRaw(`WITH cur AS (
			SELECT id, status AS old_status FROM messages WHERE id = ? AND company_id = ? FOR UPDATE
		), sent AS (
			DELETE FROM deliveries WHERE message_id = ? AND company_id = ?
		)
		UPDATE messages SET provider_sid = ?,
			status = CASE WHEN `+rankSQL+` < ? THEN ? ELSE status END
		FROM cur WHERE messages.id = cur.id
		RETURNING messages.id, messages.company_id, messages.conversation_id, messages.status, messages.direction,
			cur.old_status`, id, companyID, id, companyID, sid, StatusRank[status], status).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("record provider sid: %w", err)
	}
	if len(out) == 0 || out[0].Status == out[0].Old {
		return nil, nil
	}
	ch := out[0].StatusChange
	return &ch, nil
}

// SentOutcome is one message the provider accepted: its id and its first status
// (known, and not a failure).
type SentOutcome struct {
	CompanyID int64
	MessageID uuid.UUID
	SID       string
	Status    string
}

// RecordSentBatch is AttachProviderSIDTx for many accepted messages at once, inside
// the caller's transaction: the provider ids' locks, the early statuses, the
// messages' provider ids and statuses and the removal of their delivery rows take
// three statements for the whole batch instead of three or four per message (plus
// one per message that had early statuses, which are rare). It returns the status
// changes to publish, in the batch's order.
func RecordSentBatch(ctx context.Context, tx bun.Tx, outs []SentOutcome) ([]*StatusChange, error) {
	if len(outs) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(outs))
	companies := make([]int64, len(outs))
	sids := make([]string, len(outs))
	statuses := make([]string, len(outs))
	ranks := make([]int, len(outs))
	lockKeys := make([]string, len(outs))
	for i, o := range outs {
		if _, known := StatusRank[o.Status]; !known || IsFailure(o.Status) {
			return nil, fmt.Errorf("record sent batch: status %q is not an accepted status", o.Status)
		}
		ids[i], companies[i], sids[i], statuses[i], ranks[i] = o.MessageID, o.CompanyID, o.SID, o.Status, StatusRank[o.Status]
		lockKeys[i] = "sid:" + o.SID
	}
	// The same locks as lockProviderSID, in a fixed order (a status callback holds
	// at most one of them, so no two transactions can wait on each other).
	if _, err := tx.NewRaw(`SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT DISTINCT k FROM unnest(?::text[]) AS u(k) ORDER BY k) AS keys`,
		pgdialect.Array(lockKeys)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock provider sids: %w", err)
	}
	type early struct {
		SID       string  `bun:"provider_sid"`
		Status    string  `bun:"status"`
		ErrorCode *string `bun:"error_code"`
	}
	var earlies []early
	if err := tx.NewRaw(`DELETE FROM early_statuses WHERE provider_sid = ANY(?::text[])
		RETURNING provider_sid, status, error_code`, pgdialect.Array(sids)).Scan(ctx, &earlies); err != nil {
		return nil, fmt.Errorf("take early statuses: %w", err)
	}
	var rows []struct {
		StatusChange
		Old string `bun:"old_status"`
	}
	// As recordSent, for every message of the batch: SET and the CTEs see the rows
	// as they were, RETURNING as they are now.
	err := tx.NewRaw(`WITH v AS (
			SELECT * FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::int[]) AS v(id, company_id, sid, status, rank)
		), cur AS (
			SELECT m.id, m.status AS old_status FROM messages AS m JOIN v ON m.id = v.id AND m.company_id = v.company_id
			FOR UPDATE OF m
		), sent AS (
			DELETE FROM deliveries AS d USING v WHERE d.message_id = v.id AND d.company_id = v.company_id
		)
		UPDATE messages SET provider_sid = v.sid,
			status = CASE WHEN `+strings.ReplaceAll(rankSQL, "CASE status", "CASE messages.status")+` < v.rank THEN v.status ELSE messages.status END
		FROM v, cur WHERE messages.id = v.id AND cur.id = v.id
		RETURNING messages.id, messages.company_id, messages.conversation_id, messages.status, messages.direction,
			cur.old_status`,
		pgdialect.Array(ids), pgdialect.Array(companies), pgdialect.Array(sids), pgdialect.Array(statuses),
		pgdialect.Array(ranks)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("record provider sids: %w", err)
	}
	last := make(map[uuid.UUID]*StatusChange, len(rows))
	for i := range rows {
		if rows[i].Status != rows[i].Old {
			ch := rows[i].StatusChange
			last[ch.ID] = &ch
		}
	}
	bySID := make(map[string]SentOutcome, len(outs))
	for _, o := range outs {
		bySID[o.SID] = o
	}
	for _, e := range earlies {
		o, ok := bySID[e.SID]
		if !ok {
			continue
		}
		ch, err := AdvanceStatusByID(ctx, tx, o.CompanyID, o.MessageID, e.Status, e.ErrorCode)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			last[o.MessageID] = ch
		}
	}
	var changes []*StatusChange
	for _, o := range outs {
		if ch := last[o.MessageID]; ch != nil {
			changes = append(changes, ch)
		}
	}
	return changes, nil
}
