#!/usr/bin/env bash
# End-to-end checks against the real binary (`make e2e`; CI runs it after `make test`):
#   1. the graphql-http audit: the GraphQL-over-HTTP spec's test suite, fails on a
#      MUST (web/checks/graphql-http-audit.mjs);
#   2. the playground in headless Chromium runs { apiInfo { name version } }
#      (web/checks/playground-browser.mjs; screenshot in $SCREENSHOT, default
#      /tmp/playground.png);
#   3. the client script: the README's REST walkthrough, checked (scripts/client.sh);
#   4. graphql-ws's own client on a second instance whose tokens live 5 s: the socket
#      closes with 4401 at the token's expiry and the client does not reconnect
#      (web/clientcheck/token-expiry.mjs).
#   4b. a single-page app's Apollo Client (+ graphql-ws) against both instances:
#      signup and login, inbox paging with fetchMore, an idempotent send, a live
#      message spliced into the cached list by its cursor, CORS for a dev server's
#      origin, and token refresh on TOKEN_EXPIRED (HTTP) and on 4401 (websocket)
#      (web/clientcheck/apollo-client.mjs).
#   5. outgoing webhooks verified with the Standard Webhooks reference library
#      (web/webhookcheck/check.mjs; the server runs with WEBHOOK_ALLOW_PRIVATE=true
#      so that it may post to the check's receiver on 127.0.0.1).
# It builds `connectme`, serves it on a throwaway database and a free port, waits
# for /readyz, runs both checks, then stops the server and drops the database
# whatever happens. Needs Go, Node.js + npm, Debian's chromium, and PostgreSQL at
# 127.0.0.1:5432 (E2E_PG overrides the server URL, without a database name).
set -euo pipefail
cd "$(dirname "$0")/.."

pg=${E2E_PG:-postgres://postgres@127.0.0.1:5432}
db="connectme_e2e_$(date +%s)_$$"
work=$(mktemp -d)
server_pid=""
short_pid=""

cleanup() {
  local status=$?
  for pid in "$server_pid" "$short_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if ! psql "$pg/postgres?sslmode=disable" -qtAc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1; then
    echo "warning: could not drop the database $db" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "e2e: node dependencies (npm ci in web/checks)"
(cd web/checks && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
(cd web/clientcheck && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
(cd web/webhookcheck && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)

echo "e2e: build"
go build -o "$work/connectme" ./cmd/connectme

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base="http://127.0.0.1:$port"
spa_origin="http://localhost:5173" # a Vite dev server's origin, for the SPA check
echo "e2e: serve on $base, database $db"
DATABASE_URL="$pg/$db?sslmode=disable" PORT="$port" LISTEN_ADDR="127.0.0.1:$port" PUBLIC_BASE_URL="$base" \
  APP_ENV=development GRAPHQL_INTROSPECTION=true PLAYGROUND=true WEBHOOK_ALLOW_PRIVATE=true \
  CORS_ORIGINS="$spa_origin" \
  JWT_SECRET="e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  MEDIA_DIR="$work/media" LOG_LEVEL=warn \
  "$work/connectme" serve >"$work/server.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if curl -fsS -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null; then ready=1; break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "e2e: the server did not become ready within 60 s; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

failed=0
echo
echo "e2e: graphql-http audit"
node web/checks/graphql-http-audit.mjs "$base/graphql" || failed=1
echo
echo "e2e: playground in headless Chromium"
node web/checks/playground-browser.mjs "$base" || failed=1
echo
echo "e2e: the client script (the README's REST walkthrough)"
bash scripts/client.sh "$base" || failed=1
echo
echo "e2e: graphql-ws's client and an expiring token (a second instance, JWT_TTL=5s)"
short_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
DATABASE_URL="$pg/$db?sslmode=disable" PORT="$short_port" LISTEN_ADDR="127.0.0.1:$short_port" \
  PUBLIC_BASE_URL="http://127.0.0.1:$short_port" APP_ENV=development JWT_TTL=5s \
  JWT_SECRET="e2e-short-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  MEDIA_DIR="$work/media" LOG_LEVEL=warn \
  "$work/connectme" serve >"$work/short.log" 2>&1 &
short_pid=$!
short_ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$short_pid" 2>/dev/null; then break; fi
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$short_port/readyz" 2>/dev/null; then short_ready=1; break; fi
  sleep 0.5
done
if [ -z "$short_ready" ]; then
  echo "e2e: the second instance did not become ready; its log:" >&2
  cat "$work/short.log" >&2
  failed=1
else
  node web/clientcheck/token-expiry.mjs "http://127.0.0.1:$short_port" || failed=1
  echo
  echo "e2e: a single-page app's Apollo Client (graphql-ws, token refresh; both instances)"
  node web/clientcheck/apollo-client.mjs "$base" "http://127.0.0.1:$short_port" "$spa_origin" || failed=1
fi
# Stop the second instance now: it shares the database, so its workers would also
# claim webhook deliveries, and without WEBHOOK_ALLOW_PRIVATE it refuses to post to
# the webhook check's receiver on 127.0.0.1 (the check then times out).
if [ -n "$short_pid" ] && kill -0 "$short_pid" 2>/dev/null; then
  kill -TERM "$short_pid" 2>/dev/null || true
  wait "$short_pid" 2>/dev/null || true
fi
short_pid=""
echo
echo "e2e: outgoing webhooks (Standard Webhooks reference library)"
node web/webhookcheck/check.mjs "$base" || failed=1

if [ "$failed" != 0 ]; then
  echo "e2e: FAILED; the server's log:" >&2
  tail -n 100 "$work/server.log" >&2
fi
exit "$failed"
