package testkit

import (
	"context"
	"sync"

	"github.com/uptrace/bun"
)

// Statement is one statement a Statements hook saw: its text and, for a prepared
// one, its arguments.
type Statement struct {
	Query string
	Args  []any
}

// Statements is a Bun query hook that records the statements run (add it with
// db.AddStatementHook to see the prepared ones too).
type Statements struct {
	mu   sync.Mutex
	seen []Statement
}

// BeforeQuery implements bun.QueryHook.
func (s *Statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery implements bun.QueryHook.
func (s *Statements) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, Statement{Query: ev.Query, Args: ev.QueryArgs})
}

// Take returns the statements seen since the last Take and forgets them.
func (s *Statements) Take() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}
