// Package jobs is the one loop for background work kept in a PostgreSQL table:
// delivery of outbound messages and the download of inbound media use it, and so
// will outgoing webhooks, snooze timers and periodic cleanups.
//
// The work lives in a table, so it survives restarts and is shared by every
// instance. A Runner claims due rows with FOR UPDATE SKIP LOCKED under a lease (the
// claim statement is the use's, in db/), hands each claimed job to a worker, and
// looks again when a worker frees up, when the use's NOTIFY channel fires, when a
// retry falls due (WakeAfter) and at every poll. While the database is unavailable
// it pauses with a growing wait, logging the outage once and its end once.
//
// The wake-up comes through the one LISTEN connection the events bus holds
// (events.Bus.Wake): a NOTIFY is only a hint, lost while that connection is down,
// so the poll stays as the fallback and the bus wakes every waiter when it
// reconnects.
//
// Adding a use takes four pieces:
//
//  1. In db/: a claim statement that takes up to n due rows, skipping locked ones,
//     and reserves them for a lease (count the attempt, push run_at or
//     locked_until past the lease), plus the statements that record an outcome
//     (done: delete or mark; failed: schedule the retry at now + Backoff.Delay).
//     To be woken at once, the statement that queues work also calls pg_notify
//     on the use's channel, in the same transaction (a wake-up only on commit).
//  2. A Queue[J] with a Name, the Claim and Do functions, a Lease and the Channel.
//  3. In Do: work the job; record its outcome; on a temporary failure schedule the
//     retry with a Backoff, and call WakeAfter if the retry must not wait for the
//     poll. Do is called for every claimed job, even while stopping (its ctx is
//     then cancelled): it finishes the job or hands it back.
//  4. In app/: build it with New, giving it the app's bus as Waker, and run it
//     with the others (app.App starts and stops it).
//
// A periodic task (a cleanup) is a use whose Claim returns one job when its time
// has come (a row with the next run time, claimed like any other) and whose Do
// moves that time on.
package jobs
