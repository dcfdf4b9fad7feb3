package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ConversationChange is a conversation as a workflow statement left it, and whether
// that statement changed it (status, snooze or assignee).
type ConversationChange struct {
	bun.BaseModel `bun:"table:conversations,alias:c"`
	Conversation
	Changed bool `bun:"changed,scanonly"`
}

// changeConversation runs, in one statement, "lock the company's conversation id,
// then SET set WHERE cond" (cond may use the old row as old.*), and returns the row
// it left with whether it changed; nil when no row was updated (no such conversation
// of the company, or cond false). Concurrent changes of one row are serialised by
// the lock: cond sees the row as the previous change committed it.
func changeConversation(ctx context.Context, idb bun.IDB, companyID, id int64, set, cond string, args ...any) (*ConversationChange, error) {
	var out []ConversationChange
	q := `WITH old AS (SELECT id, status, snoozed_until, assignee_id FROM conversations
			WHERE id = ? AND company_id = ? FOR UPDATE)
		UPDATE conversations AS c SET ` + set + ` FROM old WHERE c.id = old.id AND (` + cond + `)
		RETURNING c.*, (old.status, old.snoozed_until, old.assignee_id)
			IS DISTINCT FROM (c.status, c.snoozed_until, c.assignee_id) AS changed`
	if err := idb.NewRaw(q, append([]any{id, companyID}, args...)...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("change conversation: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// SetConversationStatus sets the status of the company's conversation and its
// snooze time (nil unless SNOOZED); nil when the company has no such conversation.
func SetConversationStatus(ctx context.Context, idb bun.IDB, companyID, id int64, status string, snoozedUntil *time.Time) (*ConversationChange, error) {
	return changeConversation(ctx, idb, companyID, id, "status = ?, snoozed_until = ?", "true", status, snoozedUntil)
}

// AssignConversation sets (nil: clears) the assignee of the company's conversation;
// nil when the company has no such conversation. The caller has checked (and
// locked, ActiveAgentForShare) the agent.
func AssignConversation(ctx context.Context, idb bun.IDB, companyID, id int64, assigneeID *int64) (*ConversationChange, error) {
	return changeConversation(ctx, idb, companyID, id, "assignee_id = ?", "true", assigneeID)
}

// ClaimConversation assigns the company's conversation to agentID if it is
// unassigned or already the agent's: one conditional statement, so of concurrent
// claims exactly one wins. nil when nothing was claimed (no such conversation, or
// another agent's).
func ClaimConversation(ctx context.Context, idb bun.IDB, companyID, id, agentID int64) (*ConversationChange, error) {
	return changeConversation(ctx, idb, companyID, id, "assignee_id = ?",
		"old.assignee_id IS NULL OR old.assignee_id = ?", agentID, agentID)
}

// ActiveAgentForShare returns the company's user id, locked against a concurrent
// deactivation until the transaction ends, or ErrNotFound when the company has no
// such user. The caller checks that it is an active agent.
func ActiveAgentForShare(ctx context.Context, tx bun.Tx, companyID, userID int64) (*User, error) {
	u := new(User)
	err := tx.NewSelect().Model(u).Where("id = ?", userID).Where("company_id = ?", companyID).
		For("SHARE").Scan(ctx)
	return u, notFound(err)
}

// UnassignAgent clears the agent's assignments (a deactivated agent works nothing)
// and returns the conversations it changed.
func UnassignAgent(ctx context.Context, tx bun.Tx, companyID, agentID int64) ([]*Conversation, error) {
	var convs []*Conversation
	err := tx.NewUpdate().Model(&convs).Set("assignee_id = NULL").
		Where("company_id = ?", companyID).Where("assignee_id = ?", agentID).
		Returning("*").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("unassign agent: %w", err)
	}
	return convs, nil
}

// WakeSnoozed makes up to limit snoozed conversations whose time has come OPEN
// again, skipping the rows another instance is waking, and returns them. The
// condition is re-checked on each row it updates, so a conversation wakes once
// however many instances run this at once; the caller publishes in the same
// transaction.
func WakeSnoozed(ctx context.Context, idb bun.IDB, limit int) ([]*Conversation, error) {
	var convs []*Conversation
	err := idb.NewRaw(`UPDATE conversations AS c SET status = ?, snoozed_until = NULL
		WHERE c.id IN (SELECT id FROM conversations WHERE status = ? AND snoozed_until <= now()
			ORDER BY snoozed_until LIMIT ? FOR UPDATE SKIP LOCKED)
		AND c.status = ? AND c.snoozed_until <= now()
		RETURNING c.*`, ConversationOpen, ConversationSnoozed, limit, ConversationSnoozed).Scan(ctx, &convs)
	if err != nil {
		return nil, fmt.Errorf("wake snoozed conversations: %w", err)
	}
	return convs, nil
}

// InboxCounts are the numbers of a company's inbox tabs.
type InboxCounts struct {
	Open       int `bun:"open"`
	Pending    int `bun:"pending"`
	Snoozed    int `bun:"snoozed"`
	Resolved   int `bun:"resolved"`
	Mine       int `bun:"mine"`
	Unassigned int `bun:"unassigned"`
	Unread     int `bun:"unread"`
}

// CountInbox counts the company's conversations per status, and of the OPEN ones
// those assigned to agentID, the unassigned ones and those with unread messages, in
// one statement: the statuses and assignees from the counters migration
// 20260301001100 keeps (a few rows a company, however large its inbox), unread from
// the company's unread messages.
func CountInbox(ctx context.Context, idb bun.IDB, companyID, agentID int64) (*InboxCounts, error) {
	// unread counts the OPEN conversations among those of the company's unread
	// messages (messages_company_unread_idx): agents keep those few, where a probe
	// per OPEN conversation grew with the inbox. On the database itself a prepared
	// statement (prepared.go).
	bdb, prepared := idb.(*bun.DB)
	var p *params
	if prepared {
		p = &params{}
	}
	agent, company := p.val(agentID), p.val(companyID)
	q := idb.NewRaw(`SELECT
			coalesce(sum(n) FILTER (WHERE status = 'OPEN'), 0) AS open,
			coalesce(sum(n) FILTER (WHERE status = 'PENDING'), 0) AS pending,
			coalesce(sum(n) FILTER (WHERE status = 'SNOOZED'), 0) AS snoozed,
			coalesce(sum(n) FILTER (WHERE status = 'RESOLVED'), 0) AS resolved,
			coalesce(sum(n) FILTER (WHERE status = 'OPEN' AND assignee_id = ?0), 0) AS mine,
			coalesce(sum(n) FILTER (WHERE status = 'OPEN' AND assignee_id = 0), 0) AS unassigned,
			(SELECT count(*) FROM conversations AS o WHERE o.company_id = ?1 AND o.status = 'OPEN'
				AND o.id IN (SELECT m.conversation_id FROM messages AS m WHERE m.company_id = ?1 AND m.unread)) AS unread
		FROM conversation_tab_counts AS c WHERE c.company_id = ?1`, agent, company)
	out := new(InboxCounts)
	var err error
	if prepared {
		var rows []InboxCounts
		if err = queryPrepared(ctx, bdb, q.String(), &rows, p.args...); err == nil && len(rows) == 1 {
			*out = rows[0]
		}
	} else {
		err = q.Scan(ctx, out)
	}
	if err != nil {
		return nil, fmt.Errorf("inbox counts: %w", err)
	}
	return out, nil
}

// FoldInboxCounts folds the counter rows CountInbox sums (migration
// 20260301001100) into one row per company, status and assignee, and removes the
// rows of deleted companies and those that count nothing; it returns how many rows
// it removed. Rows a transaction still holds are skipped (they are folded next
// time), so it never waits for a backend; a backend may wait for it, briefly, to
// write a row it is folding.
func FoldInboxCounts(ctx context.Context, idb bun.IDB) (int, error) {
	var folded, dropped int
	err := idb.NewRaw(`WITH gone AS (
			DELETE FROM conversation_tab_counts AS t
			WHERE (t.company_id, t.status, t.assignee_id, t.slot) IN (
				SELECT company_id, status, assignee_id, slot FROM conversation_tab_counts WHERE slot <> 0
				FOR UPDATE SKIP LOCKED)
			RETURNING t.company_id, t.status, t.assignee_id, t.n
		), folded AS (
			INSERT INTO conversation_tab_counts AS t (company_id, status, assignee_id, slot, n)
			SELECT company_id, status, assignee_id, 0, sum(n) FROM gone GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
			ON CONFLICT (company_id, status, assignee_id, slot) DO UPDATE SET n = t.n + excluded.n
		)
		SELECT count(*) FROM gone`).Scan(ctx, &folded)
	if err != nil {
		return 0, fmt.Errorf("fold inbox counts: %w", err)
	}
	// Then the folded rows that count nothing, and the rows of deleted companies.
	err = idb.NewRaw(`WITH gone AS (
			DELETE FROM conversation_tab_counts AS t
			WHERE (t.company_id, t.status, t.assignee_id, t.slot) IN (
				SELECT company_id, status, assignee_id, slot FROM conversation_tab_counts AS c
				WHERE (slot = 0 AND n = 0) OR NOT EXISTS (SELECT 1 FROM companies AS co WHERE co.id = c.company_id)
				FOR UPDATE SKIP LOCKED)
			RETURNING 1
		)
		SELECT count(*) FROM gone`).Scan(ctx, &dropped)
	if err != nil {
		return 0, fmt.Errorf("fold inbox counts: %w", err)
	}
	return folded + dropped, nil
}

// InsertNote stores an agent's private note and sends notify in the same statement.
// It touches neither the conversation (no window, no last update) nor the outbox.
func InsertNote(ctx context.Context, idb bun.IDB, m *Message, notify []Notification) error {
	q := idb.NewSelect().With("msg", idb.NewInsert().Model(m).Returning("conversation_id, created_at")).
		TableExpr("msg").ColumnExpr("msg.created_at")
	q = withNotifications(idb, q, "msg.conversation_id", "(SELECT conversation_id FROM msg)", notify)
	var out struct {
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := q.Scan(ctx, &out); err != nil {
		return fmt.Errorf("insert note: %w", err)
	}
	m.CreatedAt = out.CreatedAt
	return nil
}
