package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/uptrace/bun"
)

// searchGraphQL searches the worker's company for term.
func (t *target) searchGraphQL(term string) attempt {
	body := gqlBody(searchQuery, map[string]any{"term": term})
	return func(ctx context.Context, w *worker) error {
		_, token, _ := t.pick(w)
		_, err := t.graphql(ctx, w, token, body)
		return err
	}
}

// searchREST searches the worker's company for term through the legacy path.
func (t *target) searchREST(term string) attempt {
	path := "/message/message-search/" + url.PathEscape(term) + "?page=1&limit=20"
	return func(ctx context.Context, w *worker) error {
		_, token, _ := t.pick(w)
		_, err := t.get(ctx, w, token, path)
		return err
	}
}

// --- correctness: each answer is compared with what SQL says, before timing ---

// searchTerms picks the rare term (a product code found in a few messages of company
// 1) and reports how many of company 1's messages each term matches.
func (t *target) searchTerms(ctx context.Context) (rare string, rareN, commonN, companyN int, err error) {
	err = t.bdb.NewRaw(`SELECT code FROM (
			SELECT substring(content FROM 'sku[0-9]+') AS code FROM message_search WHERE company_id = 1 AND search @@ to_tsquery('simple', 'sku:*')
		) x WHERE code IS NOT NULL GROUP BY code HAVING count(*) BETWEEN 2 AND 20 ORDER BY count(*) DESC, code LIMIT 1`).Scan(ctx, &rare)
	if err != nil {
		return "", 0, 0, 0, fmt.Errorf("pick a rare search term: %w", err)
	}
	if rareN, err = t.countMatches(ctx, 1, rare); err != nil {
		return
	}
	if commonN, err = t.countMatches(ctx, 1, commonTerm); err != nil {
		return
	}
	err = t.bdb.NewRaw("SELECT count(*) FROM messages WHERE company_id = 1").Scan(ctx, &companyN)
	return
}

// countMatches counts what the product's search matches: a word starting with the
// term, or the term anywhere in the text.
func (t *target) countMatches(ctx context.Context, company int, term string) (int, error) {
	var n int
	err := t.bdb.NewRaw(`SELECT count(*) FROM message_search WHERE company_id = ?
		AND (search @@ to_tsquery('simple', ?) OR content ILIKE ?)`, company, term+":*", "%"+term+"%").Scan(ctx, &n)
	return n, err
}

// checkSearch verifies both search paths for a term: every hit is the company's and
// contains the term, and there are as many as the database has (up to a page).
func (t *target) checkSearch(ctx context.Context, term string) error {
	w := &worker{}
	for c := 1; c <= t.sizes.Companies; c++ {
		token := "Bearer " + t.tokens[c-1]
		n, err := t.countMatches(ctx, c, term)
		if err != nil {
			return err
		}
		raw, err := t.graphql(ctx, w, token, gqlBody(searchQuery, map[string]any{"term": term}))
		if err != nil {
			return fmt.Errorf("search %q: %w", term, err)
		}
		var out struct {
			Data struct {
				SearchMessages gqlPage `json:"searchMessages"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		ids := out.Data.SearchMessages.ids()
		if len(ids) != min(n, 20) || out.Data.SearchMessages.PageInfo.HasNextPage != (n > 20) {
			return fmt.Errorf("search %q in company %d: %d hits (hasNextPage %v), the database has %d",
				term, c, len(ids), out.Data.SearchMessages.PageInfo.HasNextPage, n)
		}
		if err := t.checkHits(ctx, c, term, ids); err != nil {
			return err
		}
		raw, err = t.get(ctx, w, token, "/message/message-search/"+url.PathEscape(term)+"?page=1&limit=20")
		if err != nil {
			return fmt.Errorf("REST search %q: %w", term, err)
		}
		var page struct {
			TotalCount int `json:"totalCount"`
			Data       []struct {
				MessageID string `json:"messageId"`
				User      *struct {
					UserID int64 `json:"userId"`
				} `json:"user"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return err
		}
		var rest []string
		for _, d := range page.Data {
			if d.User == nil {
				return fmt.Errorf("REST search %q in company %d: a hit without its contact", term, c)
			}
			rest = append(rest, d.MessageID)
		}
		if page.TotalCount != n || !slices.Equal(rest, ids) {
			return fmt.Errorf("REST search %q in company %d: total %d (want %d), ids differ from GraphQL's", term, c, page.TotalCount, n)
		}
	}
	return nil
}

func (t *target) checkHits(ctx context.Context, c int, term string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var ok int
	err := t.bdb.NewRaw(`SELECT count(*) FROM message_search WHERE message_id IN (?) AND company_id = ?
		AND (search @@ to_tsquery('simple', ?) OR content ILIKE ?)`,
		bun.List(ids), c, term+":*", "%"+term+"%").Scan(ctx, &ok)
	if err != nil {
		return err
	}
	if ok != len(ids) {
		return fmt.Errorf("search %q in company %d: %d of %d hits are not the company's or do not match", term, c, len(ids)-ok, len(ids))
	}
	return nil
}
