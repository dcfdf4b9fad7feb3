package resolvers

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/connectme/connectme/db"
)

// Loaders batch the lookups of one request (or one subscription event), so
// a list of N conversations with their contacts, last messages and unread counts
// costs a constant number of queries. Every loader is bound to one company.
type Loaders struct {
	r         *Resolver
	companyID int64

	users              lazy[int64, *db.User]
	conversations      lazy[int64, *db.Conversation]
	lastMessages       lazy[int64, *db.Message]
	unreadCounts       lazy[int64, int]
	attachments        lazy[uuid.UUID, []*db.Attachment]
	templates          lazy[int64, *db.Template]
	conversationLabels lazy[int64, []*db.Label]
	labelCounts        lazy[int64, int]
	messages           lazy[uuid.UUID, *db.Message]
	messagesBySID      lazy[string, *db.Message]
}

type loadersKey struct{}

// loaderWait is how long a loader gathers keys before it queries.
const loaderWait = time.Millisecond

// NewLoaders returns loaders for one company. Each loader is made on its first use:
// a request uses two or three of the ten, and making them all was a tenth of a
// GraphQL page's allocations beyond its REST twin's.
func (r *Resolver) NewLoaders(companyID int64) *Loaders {
	return &Loaders{r: r, companyID: companyID}
}

// lazy is one loader of Loaders, made on first use (fields of one response resolve
// concurrently, hence the Once).
type lazy[K comparable, V any] struct {
	once   sync.Once
	loader *dataloadgen.Loader[K, V]
}

// get returns the loader, made on the first call with l's fetch (a method
// expression, so that the calls after the first allocate nothing: a method value
// bound to l would be allocated on every call).
func (z *lazy[K, V]) get(l *Loaders, fetch func(l *Loaders, ctx context.Context, keys []K) ([]V, []error)) *dataloadgen.Loader[K, V] {
	z.once.Do(func() {
		z.loader = dataloadgen.NewLoader(func(ctx context.Context, keys []K) ([]V, []error) {
			return fetch(l, ctx, keys)
		}, dataloadgen.WithWait(loaderWait), dataloadgen.WithBatchCapacity(500))
	})
	return z.loader
}

// Users are the company's users by id.
func (l *Loaders) Users() *dataloadgen.Loader[int64, *db.User] {
	return l.users.get(l, (*Loaders).fetchUsers)
}

func (l *Loaders) fetchUsers(ctx context.Context, ids []int64) ([]*db.User, []error) {
	us, err := db.UsersByIDs(ctx, l.r.DB, l.companyID, ids)
	return byKey(ids, us, err, func(u *db.User) int64 { return u.ID })
}

// Conversations are the company's conversations by id.
func (l *Loaders) Conversations() *dataloadgen.Loader[int64, *db.Conversation] {
	return l.conversations.get(l, (*Loaders).fetchConversations)
}

func (l *Loaders) fetchConversations(ctx context.Context, ids []int64) ([]*db.Conversation, []error) {
	cs, err := db.ConversationsByIDs(ctx, l.r.DB, l.companyID, ids)
	return byKey(ids, cs, err, func(c *db.Conversation) int64 { return c.ID })
}

// LastMessages are the newest message of each conversation, by conversation id.
func (l *Loaders) LastMessages() *dataloadgen.Loader[int64, *db.Message] {
	return l.lastMessages.get(l, (*Loaders).fetchLastMessages)
}

func (l *Loaders) fetchLastMessages(ctx context.Context, ids []int64) ([]*db.Message, []error) {
	ms, err := db.LastMessages(ctx, l.r.DB, l.companyID, ids)
	return byKey(ids, ms, err, func(m *db.Message) int64 { return m.ConversationID })
}

// UnreadCounts are each conversation's unread messages, by conversation id.
func (l *Loaders) UnreadCounts() *dataloadgen.Loader[int64, int] {
	return l.unreadCounts.get(l, (*Loaders).fetchUnreadCounts)
}

func (l *Loaders) fetchUnreadCounts(ctx context.Context, ids []int64) ([]int, []error) {
	counts, err := db.UnreadCounts(ctx, l.r.DB, l.companyID, ids)
	return fromMap(ids, counts, err)
}

// Attachments are each message's attachments, by message id.
func (l *Loaders) Attachments() *dataloadgen.Loader[uuid.UUID, []*db.Attachment] {
	return l.attachments.get(l, (*Loaders).fetchAttachments)
}

func (l *Loaders) fetchAttachments(ctx context.Context, ids []uuid.UUID) ([][]*db.Attachment, []error) {
	atts, err := db.AttachmentsByMessageIDs(ctx, l.r.DB, l.companyID, ids)
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
}

// Messages are the company's messages by id (the events' messages).
func (l *Loaders) Messages() *dataloadgen.Loader[uuid.UUID, *db.Message] {
	return l.messages.get(l, (*Loaders).fetchMessages)
}

func (l *Loaders) fetchMessages(ctx context.Context, ids []uuid.UUID) ([]*db.Message, []error) {
	ms, err := db.MessagesByIDs(ctx, l.r.DB, l.companyID, ids)
	return byKey(ids, ms, err, func(m *db.Message) uuid.UUID { return m.ID })
}

// Templates are the company's templates by id.
func (l *Loaders) Templates() *dataloadgen.Loader[int64, *db.Template] {
	return l.templates.get(l, (*Loaders).fetchTemplates)
}

func (l *Loaders) fetchTemplates(ctx context.Context, ids []int64) ([]*db.Template, []error) {
	ts, err := db.TemplatesByIDs(ctx, l.r.DB, l.companyID, ids)
	return byKey(ids, ts, err, func(t *db.Template) int64 { return t.ID })
}

// ConversationLabels are each conversation's labels by name, by conversation id.
func (l *Loaders) ConversationLabels() *dataloadgen.Loader[int64, []*db.Label] {
	return l.conversationLabels.get(l, (*Loaders).fetchConversationLabels)
}

func (l *Loaders) fetchConversationLabels(ctx context.Context, ids []int64) ([][]*db.Label, []error) {
	m, err := db.LabelsOfConversations(ctx, l.r.DB, l.companyID, ids)
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
}

// LabelCounts are how many conversations carry each label, by label id.
func (l *Loaders) LabelCounts() *dataloadgen.Loader[int64, int] {
	return l.labelCounts.get(l, (*Loaders).fetchLabelCounts)
}

func (l *Loaders) fetchLabelCounts(ctx context.Context, ids []int64) ([]int, []error) {
	counts, err := db.LabelConversationCounts(ctx, l.r.DB, l.companyID, ids)
	return fromMap(ids, counts, err)
}

// MessagesBySID finds the company's messages by provider id (replyTo).
func (l *Loaders) MessagesBySID() *dataloadgen.Loader[string, *db.Message] {
	return l.messagesBySID.get(l, (*Loaders).fetchMessagesBySID)
}

func (l *Loaders) fetchMessagesBySID(ctx context.Context, sids []string) ([]*db.Message, []error) {
	ms, err := db.MessagesByProviderSIDs(ctx, l.r.DB, l.companyID, sids)
	return byKey(sids, ms, err, func(m *db.Message) string { return *m.ProviderSID })
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
