# CONNECTME — see README.md.
GO ?= go
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/connectme?sslmode=disable

.PHONY: run test generate check-generated build vet fmt bench fuzz staticcheck

## run: migrate, seed the demo data and serve on :8080
run:
	$(GO) run ./cmd/connectme seed
	$(GO) run ./cmd/connectme serve

## test: the whole test suite against the local PostgreSQL
test:
	$(GO) test -race -count=1 -timeout 20m ./...

## generate: regenerate graph/ from schema.graphqls with gqlgen
generate:
	$(GO) run github.com/99designs/gqlgen generate --config gqlgen.yml

## check-generated: fail when the committed generated code is stale
check-generated: generate
	@git diff --exit-code -- graph/ resolvers/ || (echo "graph/ is stale: run make generate and commit" >&2; exit 1)

build:
	$(GO) build -o bin/connectme ./cmd/connectme

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

## fuzz: run every Fuzz* target for FUZZTIME each (CI: FUZZTIME=5s); a failing
## input is written to the package's testdata/fuzz/, commit it as a regression test
FUZZTIME ?= 10s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  pkg=./$$(dirname $${f#./}); \
	  for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## staticcheck: honnef.co/go/tools at a pinned release that supports Go 1.26
STATICCHECK_VERSION ?= v0.8.2
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
