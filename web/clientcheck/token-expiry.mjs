// graphql-ws's own client against CONNECTME (scripts/e2e.sh): a socket whose
// token expires is closed by the server with 4401, which the client takes as
// final: it reports the close to the subscription and does not reconnect, even
// with retries allowed, so the application refreshes its session instead of
// hammering the server with an expired token.
//
// Usage: node token-expiry.mjs http://127.0.0.1:PORT   (a server with a short JWT_TTL)
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const base = process.argv[2];
if (!base) {
  console.error("usage: node token-expiry.mjs <server base URL>");
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function graphql(query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const stamp = `${Date.now()}${process.pid}`;
const { signup } = await graphql(
  `mutation($in: SignupInput!) { signup(input: $in) { token expiresAt } }`,
  { in: { firstName: "Expiry", lastName: "Check", phone: `+9477${stamp.slice(-7)}`, email: `expiry-${stamp}@example.com`,
          password: "expiry-check-password", companyName: `Expiry ${stamp}` } },
);
const ttl = Date.parse(signup.expiresAt) - Date.now();
if (!(ttl > 0 && ttl < 60_000)) {
  console.error(`the token lives ${ttl} ms: run this against a server with a JWT_TTL of a few seconds`);
  process.exit(2);
}

let connects = 0;
const closes = [];
const client = createClient({
  url: base.replace(/^http/, "ws") + "/graphql",
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${signup.token}` },
  retryAttempts: 5, // a close the client may retry would be retried
  retryWait: () => sleep(100),
  on: { connected: () => connects++, closed: (e) => closes.push(e?.code) },
});
const ended = new Promise((resolve) => {
  client.subscribe({ query: "subscription { conversationUpdated { id } }" }, {
    next: () => {},
    error: (err) => resolve({ error: err }),
    complete: () => resolve({ complete: true }),
  });
});
const outcome = await Promise.race([ended, sleep(ttl + 15_000).then(() => ({ timeout: true }))]);
await sleep(2_000); // time for a reconnect that must not happen
await client.dispose();

const fail = (msg) => {
  console.error(`FAIL: ${msg} (outcome ${JSON.stringify(outcome)}, connects ${connects}, closes ${JSON.stringify(closes)})`);
  process.exit(1);
};
if (outcome.timeout) fail("the socket outlived its token");
if (outcome.error?.code !== 4401) fail("the subscription did not end with close code 4401");
if (connects !== 1) fail("the client reconnected after 4401");
console.log(`ok: the socket closed with 4401 at the token's expiry (~${Math.round(ttl / 1000)} s); graphql-ws did not reconnect`);
