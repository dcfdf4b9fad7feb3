package delivery

import (
	"context"
	"log/slog"

	"github.com/connectme/connectme/db"
)

// maxRecordBatch bounds how many accepted sends one transaction records.
const maxRecordBatch = 64

// accepted is a send the provider accepted, waiting to be recorded.
type accepted struct {
	d      *db.Delivery
	sid    string
	status string
	log    *slog.Logger
	done   chan struct{}
	// recorded is set before done closes: false when the batch failed and the
	// worker must record its outcome itself.
	recorded bool
}

// The recorder writes the outcomes of accepted sends in batches: what is waiting
// when a transaction ends goes into the next one (no timer: one outcome alone is
// recorded at once). Under a backlog a delivery then costs a share of a
// transaction rather than a transaction of its own, so the outbox keeps up with the
// sends that fill it. A worker waits for its outcome to be recorded, as before;
// when a batch fails, each of its workers records its own outcome with the usual
// retries, concurrently (one at a time here would keep the later ones unrecorded
// past their leases in an outage, and a message whose lease ends is sent again).
func (p *Pool) runRecorder(in <-chan *accepted, stop <-chan struct{}) {
	for {
		var first *accepted
		select {
		case first = <-in:
		case <-stop:
			return
		}
		batch := []*accepted{first}
	fill:
		for len(batch) < maxRecordBatch {
			select {
			case a := <-in:
				batch = append(batch, a)
			default:
				break fill
			}
		}
		ok := p.recordAccepted(batch)
		for _, a := range batch {
			a.recorded = ok
			close(a.done)
		}
	}
}

// recordAccepted records a batch in one transaction; false when it could not.
func (p *Pool) recordAccepted(batch []*accepted) bool {
	// Short enough that, if it fails, the workers' own recording (up to half a
	// lease each) still ends within the lease.
	ctx, cancel := context.WithTimeout(context.Background(), min(claimTimeout, p.cfg.Lease/4))
	defer cancel()
	outs := make([]db.SentOutcome, len(batch))
	for i, a := range batch {
		outs[i] = db.SentOutcome{CompanyID: a.d.CompanyID, MessageID: a.d.MessageID, SID: a.sid, Status: a.status}
	}
	err := p.cfg.Resolver.RecordSends(ctx, outs)
	if err != nil {
		p.log.Warn("record a batch of sends; each is recorded on its own", "count", len(batch), "err", err)
	}
	return err == nil
}

// recordOne records one outcome (status may be a failure, with its errorCode) in a
// transaction of its own, with retries.
func (p *Pool) recordOne(ctx context.Context, log *slog.Logger, d *db.Delivery, sid, status string, errorCode *string) {
	out := db.SentOutcome{CompanyID: d.CompanyID, MessageID: d.MessageID, SID: sid, Status: status}
	p.commit(ctx, log.With("sid", sid), "sent", func(ctx context.Context) error {
		return p.cfg.Resolver.RecordSend(ctx, out, errorCode)
	})
}
