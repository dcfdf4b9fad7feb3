package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/connectme/connectme/db"
)

// Sizes is the shape of a generated dataset.
type Sizes struct {
	Companies     int `json:"companies"`
	Contacts      int `json:"contacts"`
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	Days          int `json:"days"`
}

// Scaled returns the sizes with every count divided by f (companies stay).
func (s Sizes) Scaled(f int) Sizes {
	return Sizes{Companies: s.Companies, Contacts: max(s.Contacts/f, s.Companies),
		Conversations: max(s.Conversations/f, s.Companies), Messages: max(s.Messages/f, 10*s.Companies), Days: s.Days}
}

func (s Sizes) validate() error {
	switch {
	case s.Companies < 1 || s.Contacts < s.Companies:
		return errors.New("need at least one company and one contact per company")
	case s.Conversations < s.Contacts/2 || s.Conversations > 2*s.Contacts:
		// Conversations are unique per (company, contact, channel) and there are two
		// channels, WHATSAPP and SMS.
		return fmt.Errorf("conversations must be between contacts/2 and 2 × contacts (%d)", 2*s.Contacts)
	case s.Messages < s.Conversations:
		return errors.New("need at least one message per conversation")
	case s.Days < 1:
		return errors.New("days must be at least 1")
	}
	return nil
}

// genVersion changes whenever the generator makes different data, so an old dataset
// is rebuilt instead of reused.
const genVersion = 4

// Agent credentials of generated companies: agent<n>@bench.connectme.
const benchPassword = "bench-password-123"

func agentEmail(company int) string { return fmt.Sprintf("agent%d@bench.connectme", company) }

// companyNumber is company n's WhatsApp sender.
func companyNumber(n int) string { return fmt.Sprintf("whatsapp:+1415555%04d", n) }

// words is the vocabulary of generated messages, most frequent first: a message
// draws its words with a skew, so the first few appear in most messages and the
// last in a few per cent. commonTerm sits where about 5 % of messages contain it.
var words = strings.Fields(`the you to is order please thanks hi for your my it and can
we a of in on i when will this be have what yes no ok how today tomorrow payment
delivery address help with need want know price size colour store open close time
package tracking number sent received refund return exchange item product available
stock week day morning evening call message again sorry problem issue great good
perfect thank hello dear sir madam shipping fee free discount offer sale new old
card cash bank transfer invoice receipt confirm confirmed cancel cancelled change
update status waiting soon late early quick fast slow damaged broken missing wrong
right correct small medium large black white red blue green pink grey brown shoes
shirt dress bag phone case charger cable watch book gift box pack two three four
five ten hundred colombo kandy galle jaffna negombo matara office home city road
lane street house floor`)

// commonTerm and its share of messages are checked at run time (search scenario).
const commonTerm = "delivery"

// ensureDataset makes sure the database at dsn holds a complete dataset of the given
// sizes, generating it when missing, incomplete or of another shape. It returns the
// time the dataset was generated.
func ensureDataset(ctx context.Context, dsn string, s Sizes, regen bool, log func(string, ...any)) (time.Time, error) {
	if err := s.validate(); err != nil {
		return time.Time{}, err
	}
	want, _ := json.Marshal(struct {
		Sizes
		Version int `json:"version"`
	}{s, genVersion})
	if !regen {
		if at, ok := datasetReady(ctx, dsn, string(want)); ok {
			log("dataset %s: reusing (%d messages, generated %s)", dbName(dsn), s.Messages, at.Format(time.RFC3339))
			return at, nil
		}
	}
	if err := recreateDatabase(ctx, dsn); err != nil {
		return time.Time{}, err
	}
	// One statement of the generator writes a million rows: on a slow or busy host
	// it takes longer than the server's per-statement bound (db.ReadTimeout).
	bdb, err := db.Open(withReadTimeout(dsn, 15*time.Minute))
	if err != nil {
		return time.Time{}, err
	}
	defer bdb.Close()
	if _, err := db.Migrate(ctx, bdb); err != nil {
		return time.Time{}, err
	}
	start := time.Now()
	at, err := generate(ctx, bdb, s, string(want), log)
	if err != nil {
		return time.Time{}, fmt.Errorf("generate dataset: %w", err)
	}
	log("dataset %s: %d messages generated in %s", dbName(dsn), s.Messages, time.Since(start).Round(100*time.Millisecond))
	return at, nil
}

func dbName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	return strings.TrimPrefix(u.Path, "/")
}

// datasetReady reports whether the database exists and holds a finished dataset of
// that shape (bench_meta is written last).
func datasetReady(ctx context.Context, dsn, want string) (time.Time, bool) {
	bdb, err := db.Open(dsn)
	if err != nil {
		return time.Time{}, false
	}
	defer bdb.Close()
	var params string
	var at time.Time
	err = bdb.QueryRowContext(ctx, "SELECT params::text, generated_at FROM bench_meta").Scan(&params, &at)
	if err != nil {
		return time.Time{}, false
	}
	var a, b any
	_ = json.Unmarshal([]byte(params), &a)
	_ = json.Unmarshal([]byte(want), &b)
	return at, fmt.Sprint(a) == fmt.Sprint(b)
}

// adminDSN is dsn pointed at the server's postgres database.
// withReadTimeout returns dsn with pgdriver's read_timeout set to d.
func withReadTimeout(dsn string, d time.Duration) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("read_timeout", d.String())
	u.RawQuery = q.Encode()
	return u.String()
}

func adminDSN(dsn string) string {
	u, _ := url.Parse(dsn)
	u.Path = "/postgres"
	return u.String()
}

func recreateDatabase(ctx context.Context, dsn string) error {
	admin, err := db.Open(adminDSN(dsn))
	if err != nil {
		return err
	}
	defer admin.Close()
	name := dbName(dsn)
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name)); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %q`, name)); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}

func dropDatabase(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := db.Open(adminDSN(dsn))
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, dbName(dsn)))
	return err
}
