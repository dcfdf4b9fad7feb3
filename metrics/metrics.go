// Package metrics holds CONNECTME's Prometheus collectors. main builds one Metrics on
// a registry of its own (never the global default one) and passes it down; the
// parts that count things call its methods. A nil *Metrics records nothing, so code
// and tests built without one need no checks.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes CONNECTME's own series.
const namespace = "connectme"

// Metrics is the set of collectors of one process.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge
	httpShed     prometheus.Counter

	graphqlOps      *prometheus.CounterVec
	graphqlDuration *prometheus.HistogramVec
	operationNames  *boundedNames

	webhooks   *prometheus.CounterVec
	deliveries *prometheus.CounterVec

	websockets      prometheus.Gauge
	websocketsTotal prometheus.Counter

	turns turns
}

// New makes the collectors and registers them, with the Go runtime and process
// collectors, on reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route pattern and status (websocket upgrades are counted as websocket connections).",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served now (websockets not counted).",
		}),
		httpShed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_shed_total",
			Help: "Requests answered 503 because MAX_CONCURRENT_REQUESTS were already being served, or reads whose turn to work did not come within REQUEST_TIMEOUT.",
		}),
		graphqlOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "operations_total",
			Help: "GraphQL operations by type, operation name and outcome (ok, or the first error's code).",
		}, []string{"type", "operation", "outcome"}),
		graphqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "operation_duration_seconds",
			Help:    "Time to answer a GraphQL query or mutation, by type and operation name.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"type", "operation"}),
		turns:          newTurns(),
		operationNames: &boundedNames{max: maxOperationNames, seen: map[string]struct{}{}},
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "webhooks", Name: "received_total",
			Help: "Provider webhook calls by kind (message, status) and outcome (accepted, duplicate, bad_signature, rejected, error).",
		}, []string{"kind", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "delivery", Name: "jobs_total",
			Help: "Outbound messages by delivery event: queued, sent (handed to the provider), retried, failed, dropped.",
		}, []string{"event"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "websocket", Name: "connections",
			Help: "GraphQL websocket connections open now.",
		}),
		websocketsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "websocket", Name: "connections_total",
			Help: "GraphQL websocket connections opened.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.httpInFlight, m.httpShed,
		m.graphqlOps, m.graphqlDuration,
		m.webhooks, m.deliveries,
		m.websockets, m.websocketsTotal,
		m.turns.wait, m.turns.work,
	)
	// Every delivery event shows from the start, at 0, so rates work at once.
	for _, ev := range []string{DeliveryQueued, DeliverySent, DeliveryRetried, DeliveryFailed, DeliveryDropped} {
		m.deliveries.WithLabelValues(ev)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A collector that fails (the queue query while the database is down) leaves
		// its series out; the rest is still served.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// ObserveHTTP records one answered request. route is chi's route pattern, never the
// raw path, so ids in paths do not explode the series.
func (m *Metrics) ObserveHTTP(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	method = normalMethod(method)
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// RequestStarted counts a request in flight until RequestDone.
func (m *Metrics) RequestStarted() {
	if m != nil {
		m.httpInFlight.Inc()
	}
}

// RequestDone is the end of a request RequestStarted counted.
func (m *Metrics) RequestDone() {
	if m != nil {
		m.httpInFlight.Dec()
	}
}

// RequestShed counts a request refused because the server was full.
func (m *Metrics) RequestShed() {
	if m != nil {
		m.httpShed.Inc()
	}
}

// normalMethod keeps the method label to the methods HTTP defines.
func normalMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// ObserveGraphQL records one GraphQL operation. d is ignored for subscriptions, whose
// duration is the life of the stream.
func (m *Metrics) ObserveGraphQL(opType, name, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	name = m.operationNames.label(name)
	m.graphqlOps.WithLabelValues(opType, name, outcome).Inc()
	if opType == "query" || opType == "mutation" {
		m.graphqlDuration.WithLabelValues(opType, name).Observe(d.Seconds())
	}
}

// Webhook outcomes.
const (
	WebhookAccepted     = "accepted"
	WebhookDuplicate    = "duplicate"
	WebhookBadSignature = "bad_signature"
	WebhookRejected     = "rejected"
	WebhookError        = "error"
)

// Webhook counts one provider webhook call; kind is "message" or "status".
func (m *Metrics) Webhook(kind, outcome string) {
	if m != nil {
		m.webhooks.WithLabelValues(kind, outcome).Inc()
	}
}

// Delivery events.
const (
	DeliveryQueued  = "queued"
	DeliverySent    = "sent"
	DeliveryRetried = "retried"
	DeliveryFailed  = "failed"
	DeliveryDropped = "dropped"
)

// Delivery counts one delivery event of an outbound message.
func (m *Metrics) Delivery(event string) {
	if m != nil {
		m.deliveries.WithLabelValues(event).Inc()
	}
}

// WebsocketOpened counts a websocket connection; call WebsocketClosed when it ends.
func (m *Metrics) WebsocketOpened() {
	if m != nil {
		m.websockets.Inc()
		m.websocketsTotal.Inc()
	}
}

// WebsocketClosed is the end of a connection WebsocketOpened counted.
func (m *Metrics) WebsocketClosed() {
	if m != nil {
		m.websockets.Dec()
	}
}

// WatchDB exports the pool statistics of db (go_sql_*{db_name=name}).
func (m *Metrics) WatchDB(name string, db *sql.DB) {
	if m != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
}

// WatchWaiting exports how many reads wait for a place to work now
// (WORKING_REQUESTS).
func (m *Metrics) WatchWaiting(waiting func() int) {
	if m != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_waiting",
			Help: "Reads admitted and waiting their turn to work (WORKING_REQUESTS are at work).",
		}, func() float64 { return float64(waiting()) }))
	}
}

// Bus is what WatchBus reads of the event bus.
type Bus interface {
	Subscribers() int
	Healthy() (bool, string)
}

// WatchBus exports the live subscriptions of this instance and whether its event
// listener is connected.
func (m *Metrics) WatchBus(b Bus) {
	if m == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "subscriptions", Name: "live",
			Help: "GraphQL subscriptions live on this instance.",
		}, func() float64 { return float64(b.Subscribers()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "events", Name: "listener_up",
			Help: "1 while this instance's LISTEN connection for events is up.",
		}, func() float64 {
			if ok, _ := b.Healthy(); ok {
				return 1
			}
			return 0
		}),
	)
}

// QueueStats describes the delivery outbox at one moment.
type QueueStats struct {
	// Depth counts the messages waiting to be handed to the provider.
	Depth int64
	// Due counts those that may be sent now (not waiting for a retry, not claimed).
	Due int64
	// OldestAge is how long the oldest of them has waited; 0 when there are none.
	OldestAge time.Duration
}

// queueTimeout bounds the queue query of one scrape: a slow or absent database must
// not hang the scrape.
const queueTimeout = 2 * time.Second

// WatchDeliveryQueue exports the outbox at scrape time, read by stats with a short
// timeout. The outbox is shared by every instance, so every instance reports the
// same numbers: aggregate with max, not sum.
func (m *Metrics) WatchDeliveryQueue(stats func(context.Context) (QueueStats, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&queueCollector{
		stats: stats,
		depth: prometheus.NewDesc(namespace+"_delivery_queue_depth",
			"Outbound messages waiting in the delivery outbox (all instances).", nil, nil),
		due: prometheus.NewDesc(namespace+"_delivery_queue_due",
			"Outbound messages in the outbox that may be sent now.", nil, nil),
		oldest: prometheus.NewDesc(namespace+"_delivery_queue_oldest_age_seconds",
			"How long the oldest message in the outbox has waited.", nil, nil),
	})
}

// queueCollector reads the delivery outbox on every scrape.
type queueCollector struct {
	stats              func(context.Context) (QueueStats, error)
	depth, due, oldest *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.due
	ch <- c.oldest
}

// Collect implements prometheus.Collector: one query per scrape.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueTimeout)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		// The series go missing while the database is unreachable; /readyz and the
		// go_sql_* series say why.
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Depth))
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(s.Due))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestAge.Seconds())
}

// maxOperationNames bounds the distinct GraphQL operation names exported: names come
// from clients, and each one is a series.
const maxOperationNames = 200

// graphQLName is the GraphQL Name grammar.
var graphQLName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

// boundedNames admits the first max well-formed operation names as labels; others
// are "other", and a missing name is "anonymous".
type boundedNames struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func (b *boundedNames) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !graphQLName.MatchString(name) {
		return "other"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[name]; ok {
		return name
	}
	if len(b.seen) >= b.max {
		return "other"
	}
	b.seen[name] = struct{}{}
	return name
}
