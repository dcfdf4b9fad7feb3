package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// AttachProviderSID records, inside the caller's transaction, the provider's id of a
// sent message and the status the send call answered (a failure with its
// errorCode), then applies the status callbacks held back because they arrived
// before the id was known, by rank (settle). The message leaves the delivery outbox
// in the same statement: it has been handed over. It returns the final change, or
// nil when nothing moved. at is when the send call answered (its status's receipt
// time); a held status stamps the time it was received.
func AttachProviderSID(ctx context.Context, idb bun.IDB, companyID int64, id uuid.UUID, sid, status string, errorCode *string, at time.Time) (*StatusChange, error) {
	if _, ok := appliesBelow(status); !ok {
		return nil, fmt.Errorf("record provider sid: unknown status %q", status)
	}
	if err := LockProviderSID(ctx, idb, sid); err != nil {
		return nil, err
	}
	held, err := takeHeld(ctx, idb, []string{sid})
	if err != nil {
		return nil, err
	}
	var last *StatusChange
	if IsFailure(status) {
		// A failure answered is settled with the held statuses: one of them may
		// prove the message delivered.
		held = append(held, heldStatus{SID: sid, Status: status, ErrorCode: errorCode})
		if _, err := idb.NewRaw(`WITH sent AS (
				DELETE FROM deliveries WHERE message_id = ? AND company_id = ?
			)
			UPDATE messages SET provider_sid = ? WHERE id = ? AND company_id = ?`,
			id, companyID, sid, id, companyID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("record provider sid: %w", err)
		}
	} else {
		// The id and the answered status in one UPDATE: every row version of a
		// message costs an entry in each of its indexes, two GIN among them.
		if last, err = recordSent(ctx, idb, companyID, id, sid, status, at); err != nil {
			return nil, err
		}
	}
	if s := settle(held); s.Status != "" {
		ch, err := AdvanceStatusByID(ctx, idb, companyID, id, s.Status, s.ErrorCode, s.ReceivedAt)
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
// It returns the change, or nil when the status did not move; the status's receipt
// times are stamped at.
func recordSent(ctx context.Context, idb bun.IDB, companyID int64, id uuid.UUID, sid, status string, at time.Time) (*StatusChange, error) {
	rank, _ := StatusRank(status)
	rankText := strconv.Itoa(rank)
	var out []struct {
		StatusChange
		Old string `bun:"old_status"`
	}
	// SET and the CTE see the row as it was; RETURNING sees it as it is now. A
	// data-modifying CTE runs whether or not the query reads it.
	err := idb.NewRaw(`WITH cur AS (
			SELECT id, status AS old_status, ?::timestamptz AS at FROM messages WHERE id = ? AND company_id = ? FOR UPDATE
		), sent AS (
			DELETE FROM deliveries WHERE message_id = ? AND company_id = ?
		)
		UPDATE messages SET provider_sid = ?,
			status = CASE WHEN `+statusRankSQL+` < ? THEN ? ELSE status END,
			`+stampSQL(rankText, statusRankSQL+" < "+rankText, "cur.at")+`
		FROM cur WHERE messages.id = cur.id
		RETURNING messages.id, messages.company_id, messages.conversation_id, messages.status, messages.direction,
			cur.old_status`, at, id, companyID, id, companyID, sid, rank, status).Scan(ctx, &out)
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

// RecordSentBatch is AttachProviderSID for many accepted messages at once, inside
// the caller's transaction: the provider ids' locks, the held statuses, the
// messages' provider ids and statuses and the removal of their delivery rows take
// three statements for the whole batch instead of three or four per message (plus
// one per message that had held statuses, which are rare). It returns the status
// changes to publish, in the batch's order.
func RecordSentBatch(ctx context.Context, idb bun.IDB, outs []SentOutcome, at time.Time) ([]*StatusChange, error) {
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
		rank, ok := StatusRank(o.Status)
		if !ok {
			return nil, fmt.Errorf("record sent batch: status %q is not an accepted status", o.Status)
		}
		ids[i], companies[i], sids[i], statuses[i], ranks[i] = o.MessageID, o.CompanyID, o.SID, o.Status, rank
		lockKeys[i] = "sid:" + o.SID
	}
	// The same locks as LockProviderSID, in a fixed order (a status callback holds
	// at most one of them, so no two transactions can wait on each other).
	if _, err := idb.NewRaw(`SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT DISTINCT k FROM unnest(?::text[]) AS u(k) ORDER BY k) AS keys`,
		pgdialect.Array(lockKeys)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock provider sids: %w", err)
	}
	held, err := takeHeld(ctx, idb, sids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		StatusChange
		Old string `bun:"old_status"`
	}
	// As recordSent, for every message of the batch: SET and the CTEs see the rows
	// as they were, RETURNING as they are now.
	err = idb.NewRaw(`WITH v AS (
			SELECT * FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::int[]) AS v(id, company_id, sid, status, rank)
		), cur AS (
			SELECT m.id, m.status AS old_status, ?::timestamptz AS at
			FROM messages AS m JOIN v ON m.id = v.id AND m.company_id = v.company_id
			FOR UPDATE OF m
		), sent AS (
			DELETE FROM deliveries AS d USING v WHERE d.message_id = v.id AND d.company_id = v.company_id
		)
		UPDATE messages SET provider_sid = v.sid,
			status = CASE WHEN `+messagesStatusRankSQL+` < v.rank THEN v.status ELSE messages.status END,
			`+stampSQL("v.rank", messagesStatusRankSQL+" < v.rank", "cur.at")+`
		FROM v, cur WHERE messages.id = v.id AND cur.id = v.id
		RETURNING messages.id, messages.company_id, messages.conversation_id, messages.status, messages.direction,
			cur.old_status`,
		pgdialect.Array(ids), pgdialect.Array(companies), pgdialect.Array(sids), pgdialect.Array(statuses),
		pgdialect.Array(ranks), at).Scan(ctx, &rows)
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
	heldBySID := make(map[string][]heldStatus)
	for _, h := range held {
		heldBySID[h.SID] = append(heldBySID[h.SID], h)
	}
	for _, o := range outs {
		s := settle(heldBySID[o.SID])
		if s.Status == "" {
			continue
		}
		ch, err := AdvanceStatusByID(ctx, idb, o.CompanyID, o.MessageID, s.Status, s.ErrorCode, s.ReceivedAt)
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

// UnsentMessage locks an outbound message that no provider id names yet and returns
// its company; ok is false when there is none (unknown id, received, or sid known).
func UnsentMessage(ctx context.Context, idb bun.IDB, id uuid.UUID) (companyID int64, ok bool, err error) {
	err = idb.NewSelect().Model((*Message)(nil)).Column("company_id").
		Where("id = ?", id).Where("direction = ?", DirectionSent).Where("provider_sid IS NULL").
		For("UPDATE").Scan(ctx, &companyID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("unsent message: %w", err)
	}
	return companyID, true, nil
}
