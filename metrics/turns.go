package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// turnBuckets are fine where a page's latency lies (a few to a few tens of
// milliseconds), so that a quantile read off them is within a few milliseconds.
var turnBuckets = []float64{.001, .0025, .005, .0075, .01, .015, .02, .025, .03, .04, .05, .075, .1, .25, .5, 1, 2.5, 5, 10, 30}

// turns are the two histograms of the reads' turns at WORKING_REQUESTS.
type turns struct {
	wait, work prometheus.Histogram
}

func newTurns() turns {
	return turns{
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "read_wait_seconds",
			Help:    "Time reads waited for their turn to work (WORKING_REQUESTS), counted for those whose turn came.",
			Buckets: turnBuckets,
		}),
		work: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "read_work_seconds",
			Help:    "Time reads held their place: from their turn until their answer was made (before it is sent).",
			Buckets: turnBuckets,
		}),
	}
}

// ReadTurn records one read's turn at WORKING_REQUESTS: how long it waited for its
// place and how long it held it. Where a read's time goes, queue or work, is what
// tells a host that is short of cores from a page that got slower.
func (m *Metrics) ReadTurn(waited, held time.Duration) {
	if m != nil {
		m.turns.wait.Observe(waited.Seconds())
		m.turns.work.Observe(held.Seconds())
	}
}
