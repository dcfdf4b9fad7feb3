# CONNECTME — see README.md.
GO ?= go
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/connectme?sslmode=disable

.PHONY: run test generate check-generated build vet fmt bench

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

## bench: the benchmark on a million messages against this machine's own ceiling;
## creates (once) and reuses its own database, writes BENCHMARKS.md and benchmarks.svg
bench:
	$(GO) run ./cmd/connectme-bench -out BENCHMARKS.md

.PHONY: bench-smoke
## bench-smoke: a short benchmark on a throwaway 10k-message database (CI); writes nothing
bench-smoke:
	$(GO) run ./cmd/connectme-bench -smoke
