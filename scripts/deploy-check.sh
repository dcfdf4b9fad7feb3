#!/usr/bin/env bash
# The deployment check (`make deploy-check`; CI runs it after `make e2e`): two
# instances of the real binary behind nginx started with deploy/nginx/connectme.conf,
# TLS ended at the proxy, TRUSTED_PROXIES and PUBLIC_BASE_URL set as in production,
# Twilio replaced by a fake provider; everything on loopback, a few minutes at most.
# The work is done by cmd/connectme-deploycheck (see its doc comment); this script
# installs what it needs: nginx from Debian's package when missing, and the node
# modules of web/checks (the graphql-http audit and the playground in Chromium).
# DEPLOYCHECK_FLAGS passes flags (e.g. -node-checks=false).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null 2>&1; then
  echo "deploy-check: installing Debian's nginx"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
# Debian starts the packaged nginx on :80 when it can; the check runs its own.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "deploy-check: PostgreSQL is not answering at 127.0.0.1:5432" >&2
  exit 1
fi
echo "deploy-check: node dependencies (npm ci in web/checks)"
(cd web/checks && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)

# 127.0.0.2 and 127.0.0.3 stand for two client machines: on Linux the whole
# 127.0.0.0/8 is loopback, so the check binds its clients to them.
exec timeout --foreground -k 10 300 go run ./cmd/connectme-deploycheck ${DEPLOYCHECK_FLAGS:-}
