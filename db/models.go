package db

import (
	"encoding/hex"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// User kinds.
const (
	KindAgent   = "AGENT"
	KindContact = "CONTACT"
)

// Agent roles.
const (
	RoleOwner = "OWNER"
	RoleAdmin = "ADMIN"
	RoleAgent = "AGENT"
)

// ChannelWhatsApp is the id of the WHATSAPP channel the migrations insert.
const ChannelWhatsApp = 1

// Message directions.
const (
	DirectionSent     = "SENT"
	DirectionReceived = "RECEIVED"
)

// Message types.
const (
	TypeText     = "TEXT"
	TypeMedia    = "MEDIA"
	TypeTemplate = "TEMPLATE"
	// TypeNote is an agent's private note: never sent, never shown to legacy clients.
	TypeNote = "NOTE"
	// TypeLocation is a location the contact shared (Message.Location).
	TypeLocation = "LOCATION"
	// TypeInteractiveReply is the contact's tap on a button (Message.InteractiveReply).
	TypeInteractiveReply = "INTERACTIVE_REPLY"
)

// Conversation statuses (CONTRACT §6).
const (
	ConversationOpen     = "OPEN"
	ConversationPending  = "PENDING"
	ConversationSnoozed  = "SNOOZED"
	ConversationResolved = "RESOLVED"
)

// Message statuses (CONTRACT §1).
const (
	StatusPending     = "PENDING"
	StatusQueued      = "QUEUED"
	StatusSent        = "SENT"
	StatusDelivered   = "DELIVERED"
	StatusRead        = "READ"
	StatusFailed      = "FAILED"
	StatusUndelivered = "UNDELIVERED"
)

// Attachment types.
const (
	AttachmentImage    = "IMAGE"
	AttachmentVideo    = "VIDEO"
	AttachmentAudio    = "AUDIO"
	AttachmentDocument = "DOCUMENT"
)

// Company is a tenant.
type Company struct {
	bun.BaseModel `bun:"table:companies"`

	ID             int64     `bun:"id,pk,autoincrement"`
	Name           string    `bun:"name,notnull"`
	WhatsAppNumber *string   `bun:"whatsapp_number"`
	CreatedAt      time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// User is an agent (email, password, role) or a contact (phone) of one company.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64   `bun:"id,pk,autoincrement"`
	CompanyID    int64   `bun:"company_id,notnull"`
	Kind         string  `bun:"kind,notnull"`
	FirstName    string  `bun:"first_name,notnull"`
	LastName     string  `bun:"last_name,notnull"`
	Phone        *string `bun:"phone"`
	Email        *string `bun:"email"`
	PasswordHash *string `bun:"password_hash"`
	Role         *string `bun:"role"`
	NameEdited   bool    `bun:"name_edited,notnull"`
	// Active is false for a deactivated agent (always true for contacts); nullzero
	// so that an insert leaves it to the column's default, true.
	Active    bool      `bun:"active,nullzero,notnull,default:true"`
	CreatedAt time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}

// Channel is a messaging channel (1 = WHATSAPP).
type Channel struct {
	bun.BaseModel `bun:"table:channels"`

	ID   int    `bun:"id,pk"`
	Name string `bun:"name,notnull"`
}

// Conversation is the thread between a company and one contact on one channel.
type Conversation struct {
	bun.BaseModel `bun:"table:conversations"`

	ID                  int64      `bun:"id,pk,autoincrement"`
	CompanyID           int64      `bun:"company_id,notnull"`
	UserID              int64      `bun:"user_id,notnull"`
	ChannelID           int        `bun:"channel_id,notnull"`
	LastUpdateTime      *time.Time `bun:"last_update_time"`
	LastFreeMessageTime *time.Time `bun:"last_free_message_time"`
	CreatedAt           time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	// Status is OPEN, PENDING, SNOOZED or RESOLVED; nullzero so that an insert leaves
	// it to the column's default, OPEN.
	Status string `bun:"status,nullzero,notnull,default:'OPEN'"`
	// SnoozedUntil is set exactly while the status is SNOOZED.
	SnoozedUntil *time.Time `bun:"snoozed_until"`
	// AssigneeID is the agent working the conversation; nil when unassigned.
	AssigneeID *int64 `bun:"assignee_id"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
	// Summary, when set, is what the inbox shows of the conversation, loaded with
	// it (ConversationWithSummary, an inbox page): its resolvers then need no query
	// of their own. Readers share it and must not change it. Its contact and newest
	// message may be narrowed to the columns the request's query reads
	// (SummaryParts): only the GraphQL resolvers of those fields read them, never
	// business code, even when the conversation itself sits in a request loader.
	Summary *ConversationSummary `bun:"-"`
}

// Message is one message of a conversation. ID is a UUIDv7.
type Message struct {
	bun.BaseModel `bun:"table:messages"`

	ID             uuid.UUID `bun:"id,pk,type:uuid"`
	CompanyID      int64     `bun:"company_id,notnull"`
	ConversationID int64     `bun:"conversation_id,notnull"`
	SenderID       *int64    `bun:"sender_id"`
	Direction      string    `bun:"direction,notnull"`
	MessageType    string    `bun:"message_type,notnull"`
	Content        *string   `bun:"content"`
	TemplateID     *int64    `bun:"template_id"`
	TemplateParams []string  `bun:"template_params,array"`
	Datetime       time.Time `bun:"datetime,notnull"`
	Status         string    `bun:"status,notnull"`
	ProviderSID    *string   `bun:"provider_sid"`
	ErrorCode      *string   `bun:"error_code"`
	CreatedAt      time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	// ReplyToSID is the provider id of the message this one replies to (inbound).
	ReplyToSID       *string           `bun:"reply_to_sid"`
	Location         *Location         `bun:"location,type:jsonb"`
	InteractiveReply *InteractiveReply `bun:"interactive_reply,type:jsonb"`
	Referral         *Referral         `bun:"referral,type:jsonb"`
	// ClientMessageID is the sender's idempotency key, unique per conversation.
	ClientMessageID *string `bun:"client_message_id"`
	// Receipt times: when the provider reported SENT, DELIVERED and READ; for a
	// received message ReadAt is when ReadBy (an agent) marked it read.
	SentAt      *time.Time `bun:"sent_at"`
	DeliveredAt *time.Time `bun:"delivered_at"`
	ReadAt      *time.Time `bun:"read_at"`
	ReadBy      *int64     `bun:"read_by"`

	Attachments []*Attachment `bun:"-"`
}

// Location is a place a contact shared (Twilio's Latitude, Longitude, Address, Label).
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Address   *string `json:"address,omitempty"`
	Label     *string `json:"label,omitempty"`
}

// InteractiveReply is the button a contact tapped (ButtonText, ButtonPayload).
type InteractiveReply struct {
	Text    string  `json:"text"`
	Payload *string `json:"payload,omitempty"`
}

// Referral is the click-to-WhatsApp ad or post a contact came from (Twilio's
// Referral* parameters).
type Referral struct {
	SourceType *string `json:"sourceType,omitempty"`
	SourceID   *string `json:"sourceId,omitempty"`
	SourceURL  *string `json:"sourceUrl,omitempty"`
	Headline   *string `json:"headline,omitempty"`
	Body       *string `json:"body,omitempty"`
}

// HexID is the message id as the legacy API shows it: 32 lowercase hex characters.
func (m *Message) HexID() string { return HexID(m.ID) }

// HexID formats a message id as 32 lowercase hex characters.
func HexID(id uuid.UUID) string { return hex.EncodeToString(id[:]) }

// NewMessageID returns a new time-ordered (v7) message id.
func NewMessageID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// Attachment is a file of a company, usually attached to a message.
type Attachment struct {
	bun.BaseModel `bun:"table:attachments"`

	ID          int64      `bun:"id,pk,autoincrement"`
	CompanyID   int64      `bun:"company_id,notnull"`
	MessageID   *uuid.UUID `bun:"message_id,type:uuid"`
	Order       *int       `bun:"ord"`
	Type        string     `bun:"type,notnull"`
	Filename    string     `bun:"filename,notnull"`
	Filesize    int64      `bun:"filesize,notnull"`
	ContentType string     `bun:"content_type,notnull"`
	StorageKey  *string    `bun:"storage_key"`
	SourceURL   *string    `bun:"source_url"`
	State       string     `bun:"state,notnull"`
	Attempts    int        `bun:"attempts,notnull"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Template is a WhatsApp message template; CompanyID nil means shared.
type Template struct {
	bun.BaseModel `bun:"table:templates"`

	ID         int64     `bun:"id,pk,autoincrement"`
	CompanyID  *int64    `bun:"company_id"`
	Name       string    `bun:"name,notnull"`
	Language   string    `bun:"language,notnull"`
	Content    string    `bun:"content,notnull"`
	ContentSID *string   `bun:"content_sid"`
	CreatedAt  time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	// Synced marks a template kept by the Content API sync (shared, keyed by
	// ContentSID); a sync never touches the others.
	Synced         bool       `bun:"synced,notnull"`
	Category       *string    `bun:"category"`
	ApprovalStatus string     `bun:"approval_status,notnull,default:'APPROVED'"`
	Variables      []string   `bun:"variables,array,notnull,default:'{}'"`
	DeletedAt      *time.Time `bun:"deleted_at"`
	UpdatedAt      time.Time  `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}

// The approval states of a template (WhatsApp's, through Twilio); templates that did
// not come from the Content API are ApprovalApproved.
const (
	ApprovalApproved    = "APPROVED"
	ApprovalPending     = "PENDING"
	ApprovalRejected    = "REJECTED"
	ApprovalPaused      = "PAUSED"
	ApprovalDisabled    = "DISABLED"
	ApprovalUnsubmitted = "UNSUBMITTED"
)

// GetIDs returns the user's id and company id (test helpers issue tokens with it).
func (u *User) GetIDs() (int64, int64) { return u.ID, u.CompanyID }
