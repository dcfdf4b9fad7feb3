package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Label is a company's tag for conversations (CONTRACT §6); its name is unique in
// the company without regard to case.
type Label struct {
	bun.BaseModel `bun:"table:labels,alias:label"`

	ID        int64     `bun:"id,pk,autoincrement"`
	CompanyID int64     `bun:"company_id,notnull"`
	Name      string    `bun:"name,notnull"`
	Color     string    `bun:"color,nullzero,notnull,default:'#1f93ff'"`
	CreatedAt time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// conversationLabel is one row of a conversation's labels with its conversation.
type conversationLabel struct {
	bun.BaseModel `bun:"table:labels,alias:label"`
	Label
	ConversationID int64 `bun:"conversation_id,scanonly"`
}

// Labels returns the company's labels by name (without regard to case).
func Labels(ctx context.Context, idb bun.IDB, companyID int64) ([]*Label, error) {
	var out []*Label
	err := idb.NewSelect().Model(&out).Where("company_id = ?", companyID).
		OrderExpr("lower(name), id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	return out, nil
}

// LabelByID returns a label of the company, or ErrNotFound (also when it is
// another company's).
func LabelByID(ctx context.Context, idb bun.IDB, companyID, id int64) (*Label, error) {
	l := new(Label)
	err := idb.NewSelect().Model(l).Where("id = ?", id).Where("company_id = ?", companyID).Scan(ctx)
	return l, notFound(err)
}

// EnsureLabels creates the company's labels among names that do not exist yet
// (names compare without regard to case; an existing label keeps its spelling).
// Rows go in in the order given, so callers that sort names take the unique
// index's locks in one order and cannot deadlock each other; a concurrent creator of
// the same name makes this one wait, then skip it.
func EnsureLabels(ctx context.Context, tx bun.Tx, companyID int64, names []string, at time.Time) error {
	rows := make([]*Label, len(names))
	for i, n := range names {
		rows[i] = &Label{CompanyID: companyID, Name: n, CreatedAt: at}
	}
	_, err := tx.NewInsert().Model(&rows).On("CONFLICT (company_id, lower(name)) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("ensure labels: %w", err)
	}
	return nil
}

// AttachLabels gives the conversation the company's labels named names (without
// regard to case) and returns how many it did not carry yet. The labels are locked
// (KEY SHARE) as they are read, so a label deleted meanwhile is skipped instead of
// failing the foreign key.
func AttachLabels(ctx context.Context, tx bun.Tx, companyID, conversationID int64, names []string) (int, error) {
	res, err := tx.NewRaw(`INSERT INTO conversation_labels (conversation_id, label_id, company_id)
		SELECT ?, id, company_id FROM labels WHERE company_id = ? AND lower(name) IN (SELECT lower(n) FROM unnest(?::text[]) AS n)
		ORDER BY id FOR KEY SHARE ON CONFLICT DO NOTHING`, conversationID, companyID, pgdialect.Array(names)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("attach labels: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DetachLabels takes the company's labels named names (without regard to case) off
// the conversation and returns how many it carried.
func DetachLabels(ctx context.Context, tx bun.Tx, companyID, conversationID int64, names []string) (int, error) {
	res, err := tx.NewRaw(`DELETE FROM conversation_labels WHERE conversation_id = ? AND company_id = ?
		AND label_id IN (SELECT id FROM labels WHERE company_id = ? AND lower(name) IN (SELECT lower(n) FROM unnest(?::text[]) AS n))`,
		conversationID, companyID, companyID, pgdialect.Array(names)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("detach labels: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// UpdateLabel stores a label's name and color; a name another label of the company
// has is a unique violation. ErrNotFound when the company has no such label.
func UpdateLabel(ctx context.Context, idb bun.IDB, l *Label) error {
	res, err := idb.NewUpdate().Model(l).Column("name", "color").
		Where("id = ?", l.ID).Where("company_id = ?", l.CompanyID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update label: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteLabel deletes a label of the company, and so takes it off every
// conversation; ErrNotFound when the company has no such label.
func DeleteLabel(ctx context.Context, idb bun.IDB, companyID, id int64) error {
	res, err := idb.NewDelete().Model((*Label)(nil)).Where("id = ?", id).Where("company_id = ?", companyID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete label: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// LabelsOfConversations returns the labels of the company's conversations among ids,
// each conversation's by name (without regard to case).
func LabelsOfConversations(ctx context.Context, idb bun.IDB, companyID int64, ids []int64) (map[int64][]*Label, error) {
	var rows []*conversationLabel
	err := idb.NewSelect().Model(&rows).ColumnExpr("label.*, cl.conversation_id").
		Join("JOIN conversation_labels AS cl ON cl.label_id = label.id").
		Where("cl.company_id = ?", companyID).Where("cl.conversation_id IN (?)", bun.List(ids)).
		OrderExpr("lower(label.name), label.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("labels of conversations: %w", err)
	}
	out := make(map[int64][]*Label, len(ids))
	for _, r := range rows {
		out[r.ConversationID] = append(out[r.ConversationID], &r.Label)
	}
	return out, nil
}

// LabelConversationCounts counts the conversations carrying each of the company's
// labels among ids (a label on none is missing from the map).
func LabelConversationCounts(ctx context.Context, idb bun.IDB, companyID int64, ids []int64) (map[int64]int, error) {
	var rows []struct {
		LabelID int64 `bun:"label_id"`
		N       int   `bun:"n"`
	}
	err := idb.NewSelect().TableExpr("conversation_labels").ColumnExpr("label_id, count(*) AS n").
		Where("company_id = ?", companyID).Where("label_id IN (?)", bun.List(ids)).
		GroupExpr("label_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("label counts: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.LabelID] = r.N
	}
	return out, nil
}

// labelFilter keeps the conversations that carry every label of the company named
// in names (compared without regard to case). Each name is resolved once, by the
// unique index, in an uncorrelated subquery PostgreSQL runs before the scan (an
// unknown name resolves to NULL and keeps nothing); each conversation is then one
// probe of conversation_labels per name.
//
// OFFSET 0 keeps each EXISTS a per-row probe: flattened into a semi-join, PostgreSQL
// (which cannot know how common the label is) hashes the label's conversations and
// sorts every conversation of the company, 6 ms a page on the 1M-message dataset;
// probing while it walks the inbox index newest first stops at the page's end,
// 0.8 ms for a label on one conversation in four (BENCHMARKS.md). A label on very few
// conversations makes the walk long (README, known limits).
func labelFilter(q *bun.SelectQuery, p *params, companyID int64, names []string) *bun.SelectQuery {
	for _, n := range names {
		q = q.Where(`EXISTS (SELECT 1 FROM conversation_labels AS cl WHERE cl.conversation_id = conversation.id
			AND cl.label_id = (SELECT l.id FROM labels AS l WHERE l.company_id = ? AND lower(l.name) = lower(?::text)) OFFSET 0)`,
			p.val(companyID), p.val(n))
	}
	return q
}
