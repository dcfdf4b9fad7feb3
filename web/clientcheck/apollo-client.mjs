// A single-page app's client against CONNECTME (issue 19; scripts/e2e.sh): Apollo
// Client with relay-style pagination, graphql-ws for live data, and token refresh,
// as set up in spa-client.mjs. It signs a company up and logs in, pages the inbox
// with fetchMore, sends with a clientMessageId twice (one message), splices a live
// message into the cached list by its cursor, and survives an expiring token: over
// HTTP (TOKEN_EXPIRED → refreshSession → retry) and on the websocket (4401 →
// refresh → resubscribe from the last event cursor), on a second instance whose
// tokens live 5 s. Prints PASS/FAIL per step; exits 1 on a failure.
//
// Usage: node apollo-client.mjs BASE_URL SHORT_TTL_BASE_URL [ORIGIN]
//   ORIGIN: a browser origin in the first server's CORS_ORIGINS (e.g.
//   http://localhost:5173), sent on every request and on the websocket upgrade.
import { randomUUID } from "node:crypto";
import { gql } from "@apollo/client";
import WebSocket from "ws";
import { createApollo, createSession, followEvents, signup } from "./spa-client.mjs";

const [base, shortBase, origin] = process.argv.slice(2);
if (!base || !shortBase) {
  console.error("usage: node apollo-client.mjs BASE_URL SHORT_TTL_BASE_URL [ORIGIN]");
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = pred();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

let passed = 0;
async function step(name, fn) {
  try {
    const detail = await fn();
    passed++;
    console.log(`PASS ${name}${detail ? `: ${detail}` : ""}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err?.stack ?? err}`);
    console.log(`apollo-client: ${passed} passed, 1 failed`);
    process.exit(1);
  }
}
setTimeout(() => {
  console.log("FAIL apollo-client: the whole check took over 120 s");
  process.exit(1);
}, 120_000).unref();

// inbound posts Twilio's inbound-message webhook (form-encoded, unsigned in development).
async function inbound(url, to, from, body) {
  const res = await fetch(`${url}/message/messagein`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      MessageSid: `SM${randomUUID().replaceAll("-", "")}`,
      From: `whatsapp:${from}`,
      To: to,
      Body: body,
      ProfileName: `Contact ${from.slice(-4)}`,
      WaId: from.slice(1),
      NumMedia: "0",
    }),
  });
  check(res.status === 201, `inbound webhook answered ${res.status}: ${await res.text()}`);
}

const INBOX = gql`
  query Inbox($first: Int, $after: String) {
    conversations(first: $first, after: $after) {
      edges { cursor node { id cursor lastUpdateTime contact { id phone } } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`;
const MESSAGE_FIELDS = "id cursor content direction datetime conversation { id }";
const MESSAGES = gql`
  query Messages($conversationId: ID!, $first: Int) {
    messages(conversationId: $conversationId, first: $first) {
      edges { cursor node { ${MESSAGE_FIELDS} } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`;
const SEND = gql`
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) { message { ${MESSAGE_FIELDS} clientMessageId } }
  }
`;
const HEAD = gql`query Head { eventsHead }`;
const ME = gql`query Me { me { id email } }`;

const stamp = `${Date.now()}${process.pid}`.slice(-12);
const password = "spa-check-password";
const waMain = `whatsapp:+1415${stamp.slice(-7)}`;
const waShort = `whatsapp:+1646${stamp.slice(-7)}`;
const contactA = `+9471${stamp.slice(-7)}`;
const contactB = `+9472${stamp.slice(-7)}`;

// 1. Sign a company up, then log in: an access token and a refresh token.
const session = createSession(base);
let company;
await step("1 signup + login", async () => {
  const { email, payload } = await signup(base, { stamp, whatsappNumber: waMain, password });
  company = payload.user.company;
  check(company.whatsappNumber === waMain, `whatsappNumber ${company.whatsappNumber}`);
  const login = await session.login(email, password);
  check(session.accessToken && session.refreshToken, "login answered no token pair");
  return `company ${company.id}, agent ${login.user.id}, token until ${login.expiresAt}`;
});

const app = createApollo(session, { origin });
const { client } = app;

if (origin) {
  await step("2 CORS for a dev server", async () => {
    const preflight = (o) =>
      fetch(`${base}/graphql`, {
        method: "OPTIONS",
        headers: { Origin: o, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
      });
    const ok = await preflight(origin);
    check(ok.headers.get("access-control-allow-origin") === origin, `preflight from ${origin}: ${ok.status}, no Allow-Origin`);
    const other = await preflight("http://evil.example");
    check(!other.headers.get("access-control-allow-origin"), "a foreign origin was allowed");
    const status = await new Promise((resolve) => {
      const w = new WebSocket(`${base.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", { origin: "http://evil.example" });
      w.on("open", () => { w.close(); resolve("open"); });
      w.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      w.on("error", (e) => resolve(e.message));
    });
    check(status === 403, `a websocket from a foreign origin: ${status}`);
    return `${origin} may call /graphql and open websockets; http://evil.example may not (websocket ${status})`;
  });
}

// 3. Two inbound messages make two conversations; page the inbox one at a time.
let convA, convB;
await step("3 inbox paging (relayStylePagination + fetchMore)", async () => {
  await inbound(base, waMain, contactA, "hello from A");
  await inbound(base, waMain, contactB, "hello from B");
  const oq = client.watchQuery({ query: INBOX, variables: { first: 1 } });
  const results = [];
  const sub = oq.subscribe((r) => results.push(r));
  try {
    const first = await waitFor(() => results.find((r) => r.data?.conversations && !r.loading), 10_000, "the first page");
    const page1 = first.data.conversations;
    check(page1.edges.length === 1 && page1.pageInfo.hasNextPage && page1.totalCount === 2,
      `page 1: ${JSON.stringify(page1)}`);
    await oq.fetchMore({ variables: { after: page1.pageInfo.endCursor } });
    const cached = client.readQuery({ query: INBOX, variables: { first: 1 } }).conversations;
    const phones = cached.edges.map((e) => e.node.contact.phone);
    check(cached.edges.length === 2, `the cache holds ${cached.edges.length} edges`);
    check(phones[0] === contactB && phones[1] === contactA, `order ${phones} (newest first expected)`);
    check(!cached.pageInfo.hasNextPage, "hasNextPage after the last page");
    check(cached.edges.every((e) => e.cursor === e.node.cursor), "an edge cursor differs from Conversation.cursor");
    [convB, convA] = cached.edges.map((e) => e.node.id);
    return `first: 1, then fetchMore(after: endCursor): cache holds [${phones}]`;
  } finally {
    sub.unsubscribe();
  }
});

// 4. The same clientMessageId twice: one message.
let countAfterSend;
await step("4 sendMessage with a clientMessageId twice", async () => {
  const count = async () =>
    (await client.query({ query: MESSAGES, variables: { conversationId: convA, first: 20 }, fetchPolicy: "network-only" }))
      .data.messages;
  const before = (await count()).totalCount;
  const clientMessageId = randomUUID();
  const send = (text) => client.mutate({ mutation: SEND, variables: { input: { conversationId: convA, text, clientMessageId } } });
  const one = (await send("first try")).data.sendMessage.message;
  const two = (await send("second try, other text")).data.sendMessage.message;
  check(one.id === two.id, `two messages: ${one.id} and ${two.id}`);
  check(two.content === "first try" && two.clientMessageId === clientMessageId, `the retry answered ${JSON.stringify(two)}`);
  const after = await count();
  check(after.totalCount === before + 1, `totalCount ${before} → ${after.totalCount}`);
  check(after.edges.filter((e) => e.node.id === one.id).length === 1, "the message is not listed exactly once");
  countAfterSend = after.totalCount;
  return `message ${one.id} both times; totalCount ${before} → ${after.totalCount}`;
});

// 5. A live message (events(after: eventsHead)), spliced into the cached list by its cursor.
await step("5 live message spliced by its cursor", async () => {
  const head = (await client.query({ query: HEAD, fetchPolicy: "network-only" })).data.eventsHead;
  const seen = [];
  let streamError = null;
  const follow = followEvents(app, head, (ev) => seen.push(ev), (err) => (streamError = err));
  try {
    const body = `live ${randomUUID()}`;
    await inbound(base, waMain, contactA, body);
    const ev = await waitFor(
      () => streamError ? (() => { throw streamError; })() : seen.find((e) => e.type === "MESSAGE_ADDED" && e.message?.content === body),
      10_000, "the live message");
    const live = ev.message;
    check(live.conversation.id === convA && live.cursor, `live message ${JSON.stringify(live)}`);

    const vars = { conversationId: convA, first: 20 };
    client.cache.updateQuery({ query: MESSAGES, variables: vars }, (data) => {
      if (!data || data.messages.edges.some((e) => e.cursor === live.cursor)) return data;
      return {
        ...data,
        messages: {
          ...data.messages,
          edges: [{ __typename: "MessageEdge", cursor: live.cursor, node: live }, ...data.messages.edges],
          totalCount: data.messages.totalCount + 1,
        },
      };
    });
    const cached = client.readQuery({ query: MESSAGES, variables: vars }).messages;
    check(cached.edges[0].cursor === live.cursor && cached.edges[0].node.id === live.id, "the live message is not first in the cache");
    check(cached.totalCount === countAfterSend + 1, `cached totalCount ${cached.totalCount}`);

    const server = (await client.query({ query: MESSAGES, variables: vars, fetchPolicy: "no-cache" })).data.messages;
    check(server.edges[0].cursor === live.cursor, `the server's first cursor ${server.edges[0].cursor} ≠ live ${live.cursor}`);
    const cachedCursors = cached.edges.map((e) => e.cursor).join();
    check(cachedCursors === server.edges.map((e) => e.cursor).join(), "the cached list differs from the server's page");
    return `event ${ev.id} → message ${live.id}; cache and server page agree (${server.edges.length} edges)`;
  } finally {
    follow.stop();
  }
});

app.ws.dispose();
client.stop();

// 6. A second instance, the same database, tokens that live 5 s.
const short = createSession(shortBase);
const shortApp = createApollo(short);
let shortCompany, shortUser;
await step("6 TOKEN_EXPIRED over HTTP: refreshSession and one retry", async () => {
  const { email, payload } = await signup(shortBase, { stamp: `${stamp}9`, whatsappNumber: waShort, password });
  shortCompany = payload.user.company;
  const login = await short.login(email, password);
  shortUser = login.user;
  const ttl = short.expiresAt - Date.now();
  check(ttl > 0 && ttl < 60_000, `the token lives ${ttl} ms: give the second server a JWT_TTL of a few seconds`);
  await sleep(ttl + 1000);
  const { data } = await shortApp.client.query({ query: ME, fetchPolicy: "network-only" });
  check(data.me.id === shortUser.id, `me answered ${JSON.stringify(data)}`);
  const seen = shortApp.wsState.expiredSeen;
  check(seen.length === 1 && seen[0].code === "UNAUTHENTICATED" && seen[0].reason === "TOKEN_EXPIRED",
    `expired-token errors seen: ${JSON.stringify(seen)}`);
  check(short.refreshes === 1, `${short.refreshes} refreshes`);
  return `after ${Math.round(ttl / 1000)} s: ${JSON.stringify(seen[0])} → refreshSession → the retry answered me`;
});

await step("7 websocket 4401 at expiry: refresh, resubscribe, next live event arrives", async () => {
  const head = (await shortApp.client.query({ query: HEAD, fetchPolicy: "network-only" })).data.eventsHead;
  const seen = [];
  let streamError = null;
  const follow = followEvents(shortApp, head, (ev) => seen.push(ev), (err) => (streamError = err));
  try {
    const { wsState } = shortApp;
    await waitFor(() => {
      if (streamError) throw streamError;
      return wsState.closes.includes(4401) && follow.resubscribes >= 1 && wsState.connects >= 2;
    }, 20_000, "a 4401 close and a reconnect");
    const body = `after the refresh ${randomUUID()}`;
    await inbound(shortBase, waShort, contactA, body);
    const ev = await waitFor(() => {
      if (streamError) throw streamError;
      return seen.find((e) => e.type === "MESSAGE_ADDED" && e.message?.content === body);
    }, 10_000, "the live message after the reconnect");
    check(seen.filter((e) => e.id === ev.id).length === 1, "the event arrived twice");
    return `closes ${JSON.stringify(wsState.closes)}, ${wsState.connects} connects, ${short.refreshes} refreshes; event ${ev.id} arrived`;
  } finally {
    follow.stop();
  }
});
shortApp.ws.dispose();
shortApp.client.stop();
void shortCompany;

console.log(`apollo-client: ${passed} passed, 0 failed`);
process.exit(0);
