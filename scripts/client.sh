#!/usr/bin/env bash
# The README's REST walkthrough as a client script that checks what it gets: signs a
# company up, logs in, opens a chat with a template, reads the inbox, the messages
# and the 24-hour window, sends a template, is refused free text outside the window,
# and searches. Used by make e2e (against the binary) and make deploy-check (through
# the proxy). Usage: scripts/client.sh BASE_URL [extra curl options, e.g. --cacert F]
set -euo pipefail
API=${1:?usage: scripts/client.sh BASE_URL [curl options]}
shift
CURL=(curl -sS "$@")
fail() { echo "client: FAIL: $*" >&2; exit 1; }
# call METHOD PATH [BODY]: prints the body, then the status on a line of its own.
call() {
  local args=(-X "$1" "$API$2" -w '\n%{http_code}')
  [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  "${CURL[@]}" "${args[@]}"
}
# expect STATUS METHOD PATH [BODY]: the body, when the status is STATUS.
expect() {
  local want=$1 out status
  shift
  out=$(call "$@")
  status=${out##*$'\n'}
  [ "$status" = "$want" ] || fail "$1 $2 answered $status, want $want: ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -1; }

stamp=$(date +%s%N)
email="client-$stamp@example.test"
phone="+9477$(printf '%07d' $((stamp % 10000000)))"
expect 200 POST /auth/signup "{\"firstName\":\"Client\",\"lastName\":\"Script\",\"phone\":\"+14155550100\",\"email\":\"$email\",\"password\":\"client-script-pw\",\"companyName\":\"Client Script Co\"}" >/dev/null
TOKEN=$(expect 200 POST /auth/login "{\"email\":\"$email\",\"password\":\"client-script-pw\"}" | field access_token)
[ -n "$TOKEN" ] || fail "login gave no access_token"

chat=$(expect 201 POST /message/new-chat "{\"phone\":\"$phone\",\"firstName\":\"Nimal\",\"templateId\":1,\"params\":[\"Nimal\"]}")
CONV=$(printf '%s' "$chat" | field conversationId)
TO=$(printf '%s' "$chat" | sed -n 's/.*"user":{"userId":\([0-9]*\).*/\1/p')
[ -n "$CONV" ] && [ -n "$TO" ] || fail "new-chat: $chat"
printf '%s' "$chat" | grep -q '"type":"TEMPLATE"' || fail "new-chat sent no template: $chat"

inbox=$(expect 200 GET "/conversation/conversation-page-list?page=1&limit=10")
printf '%s' "$inbox" | grep -q "\"conversationId\":$CONV" || fail "the inbox lacks conversation $CONV: $inbox"
page=$(expect 200 GET "/message/message-page-list/$CONV?page=1&limit=5")
printf '%s' "$page" | grep -q '"totalCount":1' || fail "message page: $page"
window=$(expect 200 GET "/conversation/chat-time-report/$CONV")
printf '%s' "$window" | grep -q '"duration":0' || fail "a new contact's window is closed: $window"

sent=$(expect 200 POST /message "{\"to\":$TO,\"templateId\":1,\"params\":[\"again\"]}")
printf '%s' "$sent" | grep -q '"totalCount":2' || fail "send: $sent"
expect 422 POST /message "{\"to\":$TO,\"text\":\"free text outside the window\"}" >/dev/null
expect 200 GET "/message/message-search/again?page=1&limit=5" | grep -q '"totalCount":1' || fail "search found nothing"
expect 200 GET "/contact/search/${phone:1:6}" | grep -q "\"userId\":$TO" || fail "contact search"
TOKEN="" expect 401 GET /contact >/dev/null
echo "client: 11 passed, 0 failed"
