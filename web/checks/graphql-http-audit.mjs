// Runs the graphql-http server audits (the GraphQL-over-HTTP spec's test suite)
// against a running CONNECTME server and prints every result.
//
//   node graphql-http-audit.mjs http://127.0.0.1:8080/graphql
//
// Exits non-zero when any MUST audit fails (status "error"). Failed SHOULD audits
// ("warn") and MAY audits ("notice") are printed but pass: they are recommendations
// and options (README.md, "GraphQL over HTTP", lists ours and why).
import { serverAudits } from 'graphql-http';

const url = process.argv[2] || process.env.GRAPHQL_URL;
if (!url) {
  console.error('usage: node graphql-http-audit.mjs http://HOST:PORT/graphql');
  process.exit(2);
}

// One request must not hang the check forever.
const fetchFn = (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(10_000) });

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url, fetchFn })) {
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    result = { status: 'error', reason: `audit threw: ${err && err.message ? err.message : err}` };
  }
  counts[result.status]++;
  const mark = { ok: 'pass', notice: 'not done (optional)', warn: 'FAIL (recommended)', error: 'FAIL (required)' }[result.status] || result.status;
  console.log(`${mark.padEnd(21)} ${audit.id} ${audit.name}`);
  if (result.status !== 'ok') {
    console.log(`${' '.repeat(22)}reason: ${result.reason}`);
    if (result.response) {
      const body = await result.response.text().catch(() => '');
      console.log(`${' '.repeat(22)}response: ${result.response.status} ${result.response.headers.get('content-type')} ${body.slice(0, 200)}`);
    }
  } else if (result.response && result.response.body) {
    await result.response.body.cancel().catch(() => {});
  }
}
const total = counts.ok + counts.notice + counts.warn + counts.error;
console.log(
  `\ngraphql-http: ${counts.ok} of ${total} audits passed; MUST failed: ${counts.error}, SHOULD not met: ${counts.warn}, MAY not done: ${counts.notice}`,
);
// The closing line counts required audits: a SHOULD or MAY is not a failure.
console.log(`audit: ${counts.ok} passed, ${counts.error} failed`);
process.exit(counts.error > 0 ? 1 : 0);
