package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AgentByEmail returns the agent with that email (case-insensitive), or ErrNotFound.
func AgentByEmail(ctx context.Context, bdb bun.IDB, email string) (*User, error) {
	u := new(User)
	err := bdb.NewSelect().Model(u).
		Where("lower(email) = lower(?)", email).
		Where("kind = ?", KindAgent).
		Limit(1).Scan(ctx)
	return u, notFound(err)
}

// UserByID returns a user of the company (agent or contact), or ErrNotFound.
func UserByID(ctx context.Context, bdb bun.IDB, companyID, userID int64) (*User, error) {
	u := new(User)
	err := bdb.NewSelect().Model(u).
		Where("id = ?", userID).
		Where("company_id = ?", companyID).
		Scan(ctx)
	return u, notFound(err)
}

// CompanyByID returns the company, or ErrNotFound.
func CompanyByID(ctx context.Context, bdb bun.IDB, companyID int64) (*Company, error) {
	c := new(Company)
	err := bdb.NewSelect().Model(c).Where("id = ?", companyID).Scan(ctx)
	return c, notFound(err)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// SetPassword stores a new password hash of the agent.
func SetPassword(ctx context.Context, idb bun.IDB, userID int64, hash string, at time.Time) error {
	_, err := idb.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).Set("updated_at = ?", at).
		Where("id = ?", userID).Where("kind = ?", KindAgent).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}
