package resolvers

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/connectme/connectme/db"
)

// Loaders batch the lookups of one request (or one subscription event), so
// a list of N conversations with their contacts, last messages and unread counts
// costs a constant number of queries. Every loader is bound to one company.
type Loaders struct {
	Users         *dataloadgen.Loader[int64, *db.User]
	Conversations *dataloadgen.Loader[int64, *db.Conversation]
	LastMessages  *dataloadgen.Loader[int64, *db.Message]
	UnreadCounts  *dataloadgen.Loader[int64, int]
	Attachments   *dataloadgen.Loader[uuid.UUID, []*db.Attachment]
	Templates     *dataloadgen.Loader[int64, *db.Template]
	// ConversationLabels are each conversation's labels by name; LabelCounts how
	// many conversations carry each label.
	ConversationLabels *dataloadgen.Loader[int64, []*db.Label]
	LabelCounts        *dataloadgen.Loader[int64, int]
	// Messages are messages by id (the events' messages).
	Messages *dataloadgen.Loader[uuid.UUID, *db.Message]
	// MessagesBySID finds the company's messages by provider id (replyTo).
	MessagesBySID *dataloadgen.Loader[string, *db.Message]
}

type loadersKey struct{}

// loaderWait is how long a loader gathers keys before it queries.
const loaderWait = time.Millisecond

// NewLoaders returns loaders for one company.
func (r *Resolver) NewLoaders(companyID int64) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait), dataloadgen.WithBatchCapacity(500)}
	return &Loaders{
		Users: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*db.User, []error) {
			us, err := db.UsersByIDs(ctx, r.DB, companyID, ids)
			return byKey(ids, us, err, func(u *db.User) int64 { return u.ID })
		}, opts...),
		Conversations: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*db.Conversation, []error) {
			cs, err := db.ConversationsByIDs(ctx, r.DB, companyID, ids)
			return byKey(ids, cs, err, func(c *db.Conversation) int64 { return c.ID })
		}, opts...),
		LastMessages: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*db.Message, []error) {
			ms, err := db.LastMessages(ctx, r.DB, companyID, ids)
			return byKey(ids, ms, err, func(m *db.Message) int64 { return m.ConversationID })
		}, opts...),
		UnreadCounts: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]int, []error) {
			counts, err := db.UnreadCounts(ctx, r.DB, companyID, ids)
			return fromMap(ids, counts, err)
		}, opts...),
		Attachments: dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([][]*db.Attachment, []error) {
			atts, err := db.AttachmentsByMessageIDs(ctx, r.DB, companyID, ids)
			out := make([][]*db.Attachment, len(ids))
			if err != nil {
				return out, fill(len(ids), err)
			}
			pos := make(map[uuid.UUID]int, len(ids))
			for i, id := range ids {
				pos[id] = i
				out[i] = []*db.Attachment{}
			}
			for _, a := range atts {
				i := pos[*a.MessageID]
				out[i] = append(out[i], a)
			}
			return out, nil
		}, opts...),
		Messages: dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([]*db.Message, []error) {
			ms, err := db.MessagesByIDs(ctx, r.DB, companyID, ids)
			return byKey(ids, ms, err, func(m *db.Message) uuid.UUID { return m.ID })
		}, opts...),
		Templates: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*db.Template, []error) {
			ts, err := db.TemplatesByIDs(ctx, r.DB, companyID, ids)
			return byKey(ids, ts, err, func(t *db.Template) int64 { return t.ID })
		}, opts...),
		ConversationLabels: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([][]*db.Label, []error) {
			m, err := db.LabelsOfConversations(ctx, r.DB, companyID, ids)
			out := make([][]*db.Label, len(ids))
			if err != nil {
				return out, fill(len(ids), err)
			}
			for i, id := range ids {
				if out[i] = m[id]; out[i] == nil {
					out[i] = []*db.Label{}
				}
			}
			return out, nil
		}, opts...),
		LabelCounts: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]int, []error) {
			counts, err := db.LabelConversationCounts(ctx, r.DB, companyID, ids)
			return fromMap(ids, counts, err)
		}, opts...),
		MessagesBySID: dataloadgen.NewLoader(func(ctx context.Context, sids []string) ([]*db.Message, []error) {
			ms, err := db.MessagesByProviderSIDs(ctx, r.DB, companyID, sids)
			return byKey(sids, ms, err, func(m *db.Message) string { return *m.ProviderSID })
		}, opts...),
	}
}

// byKey lines items up with keys; a missing key gets the zero value (nil), which the
// field resolvers treat as "none" or as a tenancy failure, as fits the field.
func byKey[K comparable, V any](keys []K, items []V, err error, key func(V) K) ([]V, []error) {
	out := make([]V, len(keys))
	if err != nil {
		return out, fill(len(keys), err)
	}
	m := make(map[K]V, len(items))
	for _, it := range items {
		m[key(it)] = it
	}
	for i, k := range keys {
		out[i] = m[k]
	}
	return out, nil
}

// fromMap answers keys from m (the zero value where m has none), or err for each.
func fromMap[K comparable, V any](keys []K, m map[K]V, err error) ([]V, []error) {
	out := make([]V, len(keys))
	if err != nil {
		return out, fill(len(keys), err)
	}
	for i, k := range keys {
		out[i] = m[k]
	}
	return out, nil
}

func fill(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// WithLoaders returns ctx carrying loaders.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// RequestLoaders returns the request's loaders, making them for the caller's company
// when the request has none (a call from REST, or a test).
func (r *Resolver) RequestLoaders(ctx context.Context) (*Loaders, error) {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l, nil
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return r.NewLoaders(p.CompanyID), nil
}
