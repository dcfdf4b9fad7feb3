// Checks a running server's outgoing webhooks with the Standard Webhooks reference
// library (npm standardwebhooks, pinned): signs up a company, starts a receiver on
// 127.0.0.1, creates an endpoint (the server needs WEBHOOK_ALLOW_PRIVATE=true),
// sends a ping (testWebhookEndpoint) and a real event (an inbound message on
// /message/messagein, unsigned: the server has no provider token), and verifies
// both deliveries' signatures; a tampered body must not verify.
// Usage: node check.mjs http://127.0.0.1:8080
import http from 'node:http';
import swh from 'standardwebhooks';

const { Webhook } = swh;
const base = process.argv[2];
if (!base) throw new Error('usage: node check.mjs <server base URL>');

async function gql(query, variables, token) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const out = await res.json();
  if (out.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(out.errors)}`);
  return out.data;
}

const received = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.writeHead(204).end();
  });
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const hookURL = `http://127.0.0.1:${server.address().port}/hook`;

async function waitFor(what, cond) {
  for (const deadline = Date.now() + 15000; !cond(); await new Promise((ok) => setTimeout(ok, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

const problems = [];
try {
  const n = Date.now().toString().slice(-7);
  const sender = `+1555${n}`;
  const { signup } = await gql(
    `mutation($in: SignupInput!) { signup(input: $in) { token } }`,
    { in: { firstName: 'Hook', lastName: 'Check', phone: `+1444${n}`, email: `hooks-${n}@example.com`,
      password: 'hook-check-password', companyName: `Hooks ${n}`, whatsappNumber: `whatsapp:${sender}` } },
  );
  const token = signup.token;
  const { createWebhookEndpoint: ep } = await gql(
    `mutation($in: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $in) { id secret } }`,
    { in: { url: hookURL, eventTypes: ['MESSAGE_ADDED'] } }, token,
  );
  const wh = new Webhook(ep.secret);

  const { testWebhookEndpoint: ping } = await gql(
    `mutation($id: ID!) { testWebhookEndpoint(id: $id) { eventId httpStatus error } }`, { id: ep.id }, token,
  );
  if (ping.httpStatus !== 204) problems.push(`ping answered ${JSON.stringify(ping)}`);

  const form = new URLSearchParams({ MessageSid: `SMhook${n}`, From: 'whatsapp:+94717936775', To: `whatsapp:${sender}`, Body: 'hello webhooks' });
  const inbound = await fetch(`${base}/message/messagein`, { method: 'POST', body: form });
  if (inbound.status !== 201) problems.push(`messagein answered ${inbound.status}`);
  await waitFor('the message.added webhook', () => received.length >= 2);

  for (const r of received) {
    try {
      const p = wh.verify(r.body, r.headers);
      console.log(`verified ${r.headers['webhook-id']}: ${p.type}`);
      if (p.type === 'message.added' && p.data?.message?.content !== 'hello webhooks') problems.push(`message.added data: ${r.body}`);
    } catch (err) {
      problems.push(`${r.headers['webhook-id']} does not verify: ${err.message}`);
    }
  }
  try {
    wh.verify(received[0].body.replace('}', ' }'), received[0].headers);
    problems.push('a tampered body verified');
  } catch {
    // as it must
  }
  if (!received.some((r) => JSON.parse(r.body).type === 'ping')) problems.push('no ping received');
} catch (err) {
  problems.push(err.message);
} finally {
  server.close();
}
if (problems.length) {
  console.error(`webhook check FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('webhook check passed');
