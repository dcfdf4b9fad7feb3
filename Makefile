# CONNECTME — see README.md.
GO ?= go
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/connectme?sslmode=disable

.PHONY: run test generate check-generated build vet fmt bench playground-assets e2e fuzz staticcheck deploy-check

## run: migrate, seed the demo data and serve on :8080
run:
	$(GO) run ./cmd/connectme seed
	$(GO) run ./cmd/connectme serve

## test: the whole test suite against the local PostgreSQL
test:
	$(GO) test -race -count=1 -timeout 20m $(TESTFLAGS) ./...

## generate: regenerate graph/ from schema.graphqls and schema/*.graphqls with gqlgen
generate:
	$(GO) run ./cmd/gqlgen -config gqlgen.yml

## check-generated: fail when the committed generated code is stale
check-generated: generate
	@git diff --exit-code -- graph/ resolvers/ || (echo "graph/ is stale: run make generate and commit" >&2; exit 1)

## e2e: the real binary on a throwaway database, checked by the graphql-http audit
## and by the playground in headless Chromium (needs node, npm and Debian's chromium)
e2e:
	bash scripts/e2e.sh

## deploy-check: deploy/ for real: two instances behind nginx (installed from Debian
## when missing) started with deploy/nginx/connectme.conf, TLS at the proxy; the e2e
## checks, signed webhooks, events across instances, per-client sign-in limits and a
## rolling restart under load through it (0 proxy errors, 0 lost or duplicated
## messages); verifies the systemd unit with systemd-analyze. A few minutes.
deploy-check:
	bash scripts/deploy-check.sh

build:
	$(GO) build -o bin/connectme ./cmd/connectme

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

## playground-assets: rebuild the vendored GraphiQL/React bundles in server/playground/assets
## from the versions pinned in web/playground/package-lock.json (needs npm; the result is
## committed, so building and running the server never needs npm or the internet)
PLAYGROUND_NPM := web/playground/node_modules
PLAYGROUND_ASSETS := server/playground/assets
playground-assets:
	cd web/playground && npm ci --no-audit --no-fund --ignore-scripts
	cp $(PLAYGROUND_NPM)/graphiql/graphiql.min.js $(PLAYGROUND_NPM)/graphiql/graphiql.min.css $(PLAYGROUND_ASSETS)/
	cp $(PLAYGROUND_NPM)/react/umd/react.production.min.js $(PLAYGROUND_ASSETS)/
	cp $(PLAYGROUND_NPM)/react-dom/umd/react-dom.production.min.js $(PLAYGROUND_ASSETS)/
	cp $(PLAYGROUND_NPM)/graphiql/LICENSE $(PLAYGROUND_ASSETS)/LICENSE.graphiql
	cp $(PLAYGROUND_NPM)/react/LICENSE $(PLAYGROUND_ASSETS)/LICENSE.react
	cp $(PLAYGROUND_NPM)/react-dom/LICENSE $(PLAYGROUND_ASSETS)/LICENSE.react-dom
	@# The bundles name source maps that are not vendored; drop the reference so
	@# browser devtools do not ask the server for them.
	sed -i '/^\/\/# sourceMappingURL=/d' $(PLAYGROUND_ASSETS)/graphiql.min.js
	@cd web/playground && node -e 'const l=require("./package-lock.json").packages; for (const p of ["graphiql","react","react-dom"]) console.log(p, l["node_modules/"+p].version)'

## fuzz: run every Fuzz* target for FUZZTIME each (CI: FUZZTIME=5s); a failing
## input is written to the package's testdata/fuzz/, commit it as a regression test.
## A run that fails without writing one (go's fuzzing engine sometimes ends with
## "context deadline exceeded") is run once more.
FUZZTIME ?= 10s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  pkg=./$$(dirname $${f#./}); \
	  for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg || { \
	      if [ -n "$$(git status --porcelain -- $$pkg/testdata 2>/dev/null)" ]; then exit 1; fi; \
	      echo "fuzz $$fn: failed without writing a failing input (the fuzzing engine's own deadline flake); once more"; \
	      $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; }; \
	  done; \
	done

## staticcheck: honnef.co/go/tools at a pinned release that supports Go 1.26
STATICCHECK_VERSION ?= v0.8.2
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench: the benchmark on a million messages against this machine's own ceiling;
## creates (once) and reuses its own database, writes BENCHMARKS.md and benchmarks.svg.
## Measures PostGraphile 4 side by side (installed by npm ci into bench/peer/node_modules
## from bench/peer/package-lock.json; skipped with a note where node or npm is missing;
## BENCHFLAGS=-peer=false leaves it out)
bench:
	$(GO) run ./cmd/connectme-bench -out BENCHMARKS.md $(BENCHFLAGS)

## chaos: fault injection (flaky provider, kill -9, database outage, slow clients,
## bad input) against the real binary on a private PostgreSQL 15 cluster it starts
## as the postgres OS user on port 55432; a few minutes. CHAOSFLAGS passes flags
## (e.g. CHAOSFLAGS='-experiments kill-9 -n 100').
.PHONY: chaos
chaos:
	$(GO) run ./cmd/connectme-chaos $(CHAOSFLAGS)

.PHONY: bench-smoke
## bench-smoke: a short benchmark on a throwaway 10k-message database (CI); writes nothing;
## without PostGraphile (no npm install in CI: BENCHFLAGS=-peer=true to include it)
bench-smoke:
	$(GO) run ./cmd/connectme-bench -smoke -peer=false $(BENCHFLAGS)
