package resolvers_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

func TestWebhooks_DeliveryIsSignedAsStandardWebhooks(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, app, tm.adminTok, rc.URL, "MESSAGE_ADDED", "CONVERSATION_UPDATED")
	if ep.Secret == nil || !strings.HasPrefix(*ep.Secret, "whsec_") || !ep.Enabled {
		t.Fatalf("created %+v", ep)
	}
	m := inbound(t, app, tm.company, "+94717936775", "hello hooks")
	waitUntil(t, "two deliveries", func() bool { return len(rc.requests()) >= 2 })
	byType := map[string]payload{}
	for _, r := range rc.requests() {
		if err := verify(*ep.Secret, r); err != nil {
			t.Errorf("delivery %s does not verify: %v", r.ID, err)
		}
		p := decodePayload(t, r.Body)
		byType[p.Type] = p
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", p.Timestamp); err != nil || len(p.Timestamp) != len("2006-01-02T15:04:05.000Z") {
			t.Errorf("timestamp %q is not ISO 8601 with milliseconds", p.Timestamp)
		}
	}
	added := byType["message.added"]
	if added.Data.Message == nil || added.Data.Message.ID != m.HexID() || added.Data.Message.Content == nil ||
		*added.Data.Message.Content != "hello hooks" || added.Data.Message.Direction != "RECEIVED" || added.Data.Message.Attachments == nil {
		t.Errorf("message.added data %+v", added.Data.Message)
	}
	for typ, p := range byType {
		c := p.Data.Conversation
		if c == nil || c.UnreadCount != 1 || c.Contact.Phone == nil || *c.Contact.Phone != "+94717936775" || c.Contact.ID == "" {
			t.Errorf("%s conversation %+v", typ, c)
		}
	}
	if _, ok := byType["conversation.updated"]; !ok {
		t.Errorf("no conversation.updated among %v", byType)
	}
	waitUntil(t, "both attempts logged", func() bool { return len(attempts(t, app, tm.ownerTok, ep.ID)) == 2 })
	as := attempts(t, app, tm.ownerTok, ep.ID)
	if len(as) != 2 || as[0].HTTPStatus == nil || *as[0].HTTPStatus != 204 || as[0].Attempt != 1 || as[0].NextAttemptAt != nil {
		t.Errorf("delivery log %+v", as)
	}
}

func TestWebhooks_OnlyWantedTypesAndOnlyNewEvents(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	inbound(t, app, tm.company, "+94717936001", "before the endpoint")
	waitHeadCovers(t, app, tm.company.ID)
	rc := newReceiver(t, nil)
	createEndpoint(t, app, tm.ownerTok, rc.URL, "CONVERSATION_UPDATED")
	inbound(t, app, tm.company, "+94717936002", "after")
	waitUntil(t, "a delivery", func() bool { return len(rc.requests()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	got := rc.requests()
	if len(got) != 1 || decodePayload(t, got[0].Body).Type != "conversation.updated" {
		t.Errorf("got %d deliveries, first %s", len(got), got[0].Body)
	}
}

func TestWebhooks_SecretIsShownOnlyAtCreation(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	ep := createEndpoint(t, app, tm.ownerTok, "https://example.com/hook")
	var list struct{ WebhookEndpoints []endpoint }
	gql(t, app, tm.ownerTok, `{ webhookEndpoints { `+endpointFields+` } }`, nil, &list)
	if len(list.WebhookEndpoints) != 1 || list.WebhookEndpoints[0].ID != ep.ID || list.WebhookEndpoints[0].Secret != nil {
		t.Errorf("list %+v", list.WebhookEndpoints)
	}
	var upd struct{ UpdateWebhookEndpoint endpoint }
	gql(t, app, tm.ownerTok, `mutation($in: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $in) { `+endpointFields+` } }`,
		map[string]any{"in": map[string]any{"id": ep.ID, "eventTypes": []string{"MESSAGE_ADDED"}}}, &upd)
	if upd.UpdateWebhookEndpoint.Secret != nil || len(upd.UpdateWebhookEndpoint.EventTypes) != 1 {
		t.Errorf("update %+v", upd.UpdateWebhookEndpoint)
	}
}

func TestWebhooks_BadInput(t *testing.T) {
	strict := testkit.NewApp(t, func(c *config.Config) { c.AppEnv = "production" })
	tm := newTeam(t, strict)
	const create = `mutation($in: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $in) { id } }`
	for name, in := range map[string]map[string]any{
		"no event types":     {"url": "https://example.com/hook", "eventTypes": []string{}},
		"http in production": {"url": "http://example.com/hook", "eventTypes": []string{"MESSAGE_ADDED"}},
		"loopback":           {"url": "https://127.0.0.1/hook", "eventTypes": []string{"MESSAGE_ADDED"}},
		"localhost":          {"url": "https://localhost:8443/hook", "eventTypes": []string{"MESSAGE_ADDED"}},
		"private":            {"url": "https://10.0.0.8/hook", "eventTypes": []string{"MESSAGE_ADDED"}},
		"link-local":         {"url": "https://169.254.169.254/latest", "eventTypes": []string{"MESSAGE_ADDED"}},
		"ula":                {"url": "https://[fd00::1]/hook", "eventTypes": []string{"MESSAGE_ADDED"}},
		"not a url":          {"url": "hook", "eventTypes": []string{"MESSAGE_ADDED"}},
		"credentials":        {"url": "https://u:p@example.com/", "eventTypes": []string{"MESSAGE_ADDED"}},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, strict, tm.ownerTok, create, map[string]any{"in": in}, "BAD_USER_INPUT")
		})
	}
	ep := createEndpoint(t, strict, tm.ownerTok, "https://93.184.216.34/hook")
	wantCode(t, strict, tm.ownerTok, `mutation($in: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"id": ep.ID, "eventTypes": []string{}}}, "BAD_USER_INPUT")
	wantCode(t, strict, tm.ownerTok, `{ webhookDeliveries(endpointId: "`+ep.ID+`", first: 0) { pageInfo { hasNextPage } } }`, nil, "BAD_USER_INPUT")
	wantCode(t, strict, tm.ownerTok, `{ webhookDeliveries(endpointId: "`+ep.ID+`", after: "nope") { pageInfo { hasNextPage } } }`, nil, "BAD_USER_INPUT")
}

// Every operation refuses agents, and another company's endpoint is FORBIDDEN.
func TestWebhooks_OwnerAndAdminOnlyAndTenantBound(t *testing.T) {
	app := hookApp(t)
	tm, other := newTeam(t, app), newTeam(t, app)
	ep := createEndpoint(t, app, tm.ownerTok, "https://example.com/hook")
	id := map[string]any{"id": ep.ID}
	ops := []struct {
		query string
		vars  map[string]any
	}{
		{`{ webhookEndpoints { id } }`, nil},
		{`mutation { createWebhookEndpoint(input: {url: "https://example.com/x", eventTypes: [MESSAGE_ADDED]}) { id } }`, nil},
		{`mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: false}) { id } }`, id},
		{`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, id},
		{`mutation($id: ID!) { testWebhookEndpoint(id: $id) { id } }`, id},
		{`query($id: ID!) { webhookDeliveries(endpointId: $id) { pageInfo { hasNextPage } } }`, id},
	}
	for _, op := range ops {
		wantCode(t, app, tm.agentTok, op.query, op.vars, "FORBIDDEN")
		if op.vars != nil {
			wantCode(t, app, other.ownerTok, op.query, op.vars, "FORBIDDEN")
			wantCode(t, app, other.adminTok, op.query, op.vars, "FORBIDDEN")
		}
	}
	var list struct{ WebhookEndpoints []endpoint }
	gql(t, app, other.ownerTok, `{ webhookEndpoints { id } }`, nil, &list)
	if len(list.WebhookEndpoints) != 0 {
		t.Errorf("another company lists %+v", list.WebhookEndpoints)
	}
	wantCode(t, app, tm.ownerTok, `mutation { deleteWebhookEndpoint(id: "999999") }`, nil, "NOT_FOUND")
	var del struct{ DeleteWebhookEndpoint bool }
	gql(t, app, tm.adminTok, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, id, &del)
	if !del.DeleteWebhookEndpoint {
		t.Error("delete answered false")
	}
}

func TestWebhooks_TestSendsAPingNow(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	rc := newReceiver(t, func(int, received) int { return 200 })
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL)
	var out struct{ TestWebhookEndpoint attempt }
	gql(t, app, tm.ownerTok, `mutation($id: ID!) { testWebhookEndpoint(id: $id) { eventId type attempt httpStatus durationMs error } }`,
		map[string]any{"id": ep.ID}, &out)
	a := out.TestWebhookEndpoint
	if a.Type != "ping" || a.HTTPStatus == nil || *a.HTTPStatus != 200 || a.Error != nil || !strings.HasPrefix(a.EventID, "ping_") {
		t.Errorf("ping %+v", a)
	}
	got := rc.requests()
	if len(got) != 1 || got[0].ID != a.EventID || decodePayload(t, got[0].Body).Type != "ping" || verify(*ep.Secret, got[0]) != nil {
		t.Errorf("receiver got %+v", got)
	}
}

// data.conversation carries the team's workflow: status, assignee and labels, as
// they are when the delivery is made.
func TestWebhooks_ConversationCarriesStatusAssigneeAndLabels(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	m := inbound(t, app, tm.company, "+94717936123", "label me")
	waitHeadCovers(t, app, tm.company.ID)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL, "CONVERSATION_UPDATED")
	conv := strconv.FormatInt(m.ConversationID, 10)
	gql(t, app, tm.agentTok, `mutation($c: ID!) { claimConversation(conversationId: $c) { id } }`, map[string]any{"c": conv}, nil)
	waitUntil(t, "the claim's delivery", func() bool { return len(rc.requests()) >= 1 })
	gql(t, app, tm.agentTok, `mutation($c: ID!) { addLabels(conversationId: $c, names: ["VIP"]) { id } }`, map[string]any{"c": conv}, nil)
	waitUntil(t, "the label's delivery", func() bool { return len(rc.requests()) >= 2 })
	reqs := rc.requests()
	if err := verify(*ep.Secret, reqs[1]); err != nil {
		t.Fatal(err)
	}
	c := decodePayload(t, reqs[1].Body).Data.Conversation
	want := strconv.FormatInt(tm.agent.ID, 10)
	if c == nil || c.ID != conv || c.Status != "OPEN" || c.AssigneeID == nil || *c.AssigneeID != want ||
		len(c.Labels) != 1 || c.Labels[0].Name != "VIP" || c.Labels[0].Color == "" {
		t.Fatalf("conversation of the delivery: %+v", c)
	}
}
