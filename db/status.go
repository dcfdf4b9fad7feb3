package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// statusOrder is the order of the forward-only statuses, first to last: a message's
// status only ever moves later in it. FAILED and UNDELIVERED, the terminal failures,
// apply only before DELIVERED. This is the one place the order is written:
// StatusRank reads it in Go and rankSQL renders it for SQL.
var statusOrder = []string{StatusPending, StatusQueued, StatusSent, StatusDelivered, StatusRead}

// StatusRank returns a forward-only status's place in the order; ok is false for a
// failure or an unknown status.
func StatusRank(status string) (rank int, ok bool) {
	i := slices.Index(statusOrder, status)
	return i, i >= 0
}

// IsFailure reports whether status is a terminal failure.
func IsFailure(status string) bool { return status == StatusFailed || status == StatusUndelivered }

// appliesBelow is the rank a message's status must be under for status to apply:
// status's own, or DELIVERED's for a failure. A failure ranks past everything in
// SQL (rankSQL), so nothing moves a failed message. ok is false for an unknown
// status.
func appliesBelow(status string) (rank int, ok bool) {
	if IsFailure(status) {
		return slices.Index(statusOrder, StatusDelivered), true
	}
	return StatusRank(status)
}

// rankSQL renders StatusRank over the status column col; failures and unknown
// statuses rank past every other.
func rankSQL(col string) string {
	var b strings.Builder
	b.WriteString("(CASE " + col)
	for i, s := range statusOrder {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, i)
	}
	b.WriteString(" ELSE 99 END)")
	return b.String()
}

// The rank of a message's status, in statements on messages alone and in
// statements that join it.
var (
	statusRankSQL         = rankSQL("status")
	messagesStatusRankSQL = rankSQL("messages.status")
)

// receipts are the receipt times and the status each records: a status stamps its
// own and every earlier one still NULL (READ reported first stamps all three).
var receipts = []struct{ column, status string }{
	{"sent_at", StatusSent}, {"delivered_at", StatusDelivered}, {"read_at", StatusRead},
}

// stampSQL renders the SET clauses that stamp the receipt times at the time at
// (an SQL expression) when a status of rank rank (an SQL expression) is applied,
// which moves says (an SQL condition).
func stampSQL(rank, moves, at string) string {
	parts := make([]string, len(receipts))
	for i, rc := range receipts {
		r, _ := StatusRank(rc.status)
		parts[i] = fmt.Sprintf("%[1]s = CASE WHEN %[2]s AND %[3]s >= %[4]d THEN coalesce(%[1]s, %[5]s) ELSE %[1]s END",
			rc.column, moves, rank, r, at)
	}
	return strings.Join(parts, ", ")
}

// advance builds the conditional UPDATE that moves a message's status forward only:
// a late or repeated status never moves it back, and a failure applies only before
// DELIVERED and never after another failure. The status's receipt times (and the
// earlier ones still NULL) are stamped at in the same statement.
func advance(idb bun.IDB, status string, errorCode *string, at time.Time) (*bun.UpdateQuery, error) {
	below, ok := appliesBelow(status)
	if !ok {
		return nil, fmt.Errorf("unknown status %q", status)
	}
	q := idb.NewUpdate().Model((*Message)(nil)).
		Set("status = ?", status).
		Where(statusRankSQL+" < ?", below).
		Returning("id, company_id, conversation_id, status, direction")
	if IsFailure(status) {
		q = q.Set("error_code = ?", errorCode)
	}
	rank, _ := StatusRank(status)
	for _, rc := range receipts {
		if r, _ := StatusRank(rc.status); !IsFailure(status) && r <= rank {
			q = q.Set("? = coalesce(?, ?)", bun.Ident(rc.column), bun.Ident(rc.column), at)
		}
	}
	return q, nil
}

// StatusChange is a message whose status moved.
type StatusChange struct {
	ID             uuid.UUID `bun:"id"`
	CompanyID      int64     `bun:"company_id"`
	ConversationID int64     `bun:"conversation_id"`
	Status         string    `bun:"status"`
	Direction      string    `bun:"direction"`
}

// AdvanceStatusByID moves one message of the company forward to status, reported
// at at. It returns nil when the status did not move (already there or further).
func AdvanceStatusByID(ctx context.Context, idb bun.IDB, companyID int64, id uuid.UUID, status string, errorCode *string, at time.Time) (*StatusChange, error) {
	q, err := advance(idb, status, errorCode, at)
	if err != nil {
		return nil, err
	}
	var out []StatusChange
	if err := q.Where("id = ?", id).Where("company_id = ?", companyID).Scan(ctx, &out); err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// AdvanceStatusBySID moves the message with that provider id forward to status (a
// provider's status callback, received at at). It returns nil when nothing moved:
// the status is not forward, or no message carries the id yet (HoldStatus then
// keeps it).
func AdvanceStatusBySID(ctx context.Context, idb bun.IDB, sid, status string, errorCode *string, at time.Time) (*StatusChange, error) {
	q, err := advance(idb, status, errorCode, at)
	if err != nil {
		return nil, err
	}
	var out []StatusChange
	if err := q.Where("provider_sid = ?", sid).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("advance status: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// LockProviderSID serialises, within the caller's transaction, everything done for
// one provider message id: recording it after a send, and applying a status
// callback for it.
func LockProviderSID(ctx context.Context, idb bun.IDB, sid string) error {
	if _, err := idb.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "sid:"+sid); err != nil {
		return fmt.Errorf("lock provider sid: %w", err)
	}
	return nil
}

// HoldStatus keeps a status callback, received at at, for a provider id no message
// carries yet (the callback beat the send call's answer), for AttachProviderSID or
// RecordSentBatch to apply. Run it under LockProviderSID; one statement.
func HoldStatus(ctx context.Context, idb bun.IDB, sid, status string, errorCode *string, at time.Time) error {
	_, err := idb.NewRaw(`INSERT INTO early_statuses (provider_sid, status, error_code, received_at)
		SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM messages WHERE provider_sid = ?)
		ON CONFLICT (provider_sid, status) DO NOTHING`, sid, status, errorCode, at, sid).Exec(ctx)
	if err != nil {
		return fmt.Errorf("hold status: %w", err)
	}
	return nil
}

// ExpireHeldStatuses removes the held statuses received before cutoff (callbacks
// for sends whose answer never came, so no message ever took their id). It returns
// how many it removed.
func ExpireHeldStatuses(ctx context.Context, idb bun.IDB, cutoff time.Time) (int, error) {
	res, err := idb.NewRaw(`DELETE FROM early_statuses WHERE received_at < ?`, cutoff).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("expire held statuses: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// heldStatus is a status callback kept until the send recorded its provider id.
type heldStatus struct {
	SID        string    `bun:"provider_sid"`
	Status     string    `bun:"status"`
	ErrorCode  *string   `bun:"error_code"`
	ReceivedAt time.Time `bun:"received_at"`
}

// takeHeld removes and returns the held statuses of the provider ids.
func takeHeld(ctx context.Context, idb bun.IDB, sids []string) ([]heldStatus, error) {
	var held []heldStatus
	if err := idb.NewRaw(`DELETE FROM early_statuses WHERE provider_sid IN (?)
		RETURNING provider_sid, status, error_code, received_at`, bun.List(sids)).Scan(ctx, &held); err != nil {
		return nil, fmt.Errorf("take held statuses: %w", err)
	}
	return held, nil
}

// settle folds the statuses reported for one message into the one they lead to,
// whatever order they come in: the furthest forward, or a failure when nothing at
// or past DELIVERED is among them. It is the forward-only rule applied in rank
// order. The status is empty when held is.
func settle(held []heldStatus) heldStatus {
	var best, failure heldStatus
	bestRank := -1
	for _, h := range held {
		if IsFailure(h.Status) {
			if failure.Status == "" || h.Status < failure.Status {
				failure = h
			}
		} else if r, ok := StatusRank(h.Status); ok && r > bestRank {
			best, bestRank = h, r
		}
	}
	if delivered, _ := StatusRank(StatusDelivered); failure.Status != "" && bestRank < delivered {
		return failure
	}
	return best
}
