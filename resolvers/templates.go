package resolvers

import (
	"context"

	"github.com/connectme/connectme/db"
)

// Templates returns the templates the caller's company may send: the shared ones and
// its own.
func (r *Resolver) Templates(ctx context.Context) ([]*db.Template, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return db.ListTemplates(ctx, r.DB, p.CompanyID)
}
