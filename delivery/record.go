package delivery

import (
	"context"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
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
}

// The recorder writes the outcomes of accepted sends in batches: what is waiting
// when a transaction ends goes into the next one (no timer: one outcome alone is
// recorded at once). Under a backlog a delivery then costs a share of a
// transaction rather than a transaction of its own, so the outbox keeps up with the
// sends that fill it. A worker waits for its outcome to be recorded, as before;
// a batch that fails is recorded again one outcome at a time, each with its own
// retries, so one bad outcome cannot hold the others back.
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
		p.recordAccepted(batch)
		for _, a := range batch {
			close(a.done)
		}
	}
}

// recordAccepted records a batch in one transaction, or each of it on its own.
func (p *Pool) recordAccepted(batch []*accepted) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Lease/2)
	defer cancel()
	outs := make([]db.SentOutcome, len(batch))
	for i, a := range batch {
		outs[i] = db.SentOutcome{CompanyID: a.d.CompanyID, MessageID: a.d.MessageID, SID: a.sid, Status: a.status}
	}
	err := p.cfg.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		changes, err := db.RecordSentBatch(ctx, tx, outs)
		if err != nil || len(changes) == 0 {
			return err
		}
		evs := make([]events.Event, len(changes))
		for i, c := range changes {
			evs[i] = statusEvent(c)
		}
		return events.Publish(ctx, tx, evs...)
	})
	if err == nil {
		return
	}
	if len(batch) > 1 {
		p.log.Warn("record a batch of sends; recording them one by one", "count", len(batch), "err", err)
	}
	for _, a := range batch {
		p.recordOne(context.Background(), a.log, a.d, a.sid, a.status, false, nil)
	}
}

// recordOne records one outcome in a transaction of its own, with retries.
func (p *Pool) recordOne(ctx context.Context, log *slog.Logger, d *db.Delivery, sid, status string, failed bool, errorCode *string) {
	p.commit(ctx, log.With("sid", sid), "sent", func(ctx context.Context, tx bun.Tx) error {
		change, err := db.AttachProviderSIDTx(ctx, tx, d.CompanyID, d.MessageID, sid, status)
		if err != nil {
			return err
		}
		if failed {
			fc, err := db.AdvanceStatusByID(ctx, tx, d.CompanyID, d.MessageID, db.StatusFailed, errorCode)
			if err != nil {
				return err
			}
			if fc != nil {
				change = fc
			}
		}
		if err := db.DeleteDelivery(ctx, tx, d.MessageID); err != nil {
			return err
		}
		return publish(ctx, tx, change)
	})
}
