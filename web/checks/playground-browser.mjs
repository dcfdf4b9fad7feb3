// Opens the playground of a running CONNECTME server in headless Chromium, runs
// `{ apiInfo { name version } }` through GraphiQL's own editor and run button, and
// checks the answer appears on the page. Also fails on any request to another host,
// any Content-Security-Policy violation, console error or page error, and saves a
// screenshot (default /tmp/playground.png) to look at.
//
//   node playground-browser.mjs http://127.0.0.1:8080
//
// Chromium comes from Debian (apt-get install chromium); CHROMIUM overrides its path.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = (process.argv[2] || process.env.CONNECTME_URL || '').replace(/\/+$/, '');
if (!base) {
  console.error('usage: node playground-browser.mjs http://HOST:PORT');
  process.exit(2);
}
const screenshot = process.env.SCREENSHOT || '/tmp/playground.png';
const deadline = Number(process.env.BROWSER_TIMEOUT_MS || 30_000);
const origin = new URL(base).origin;
const query = '{ apiInfo { name version } }';

const problems = [];
const userDataDir = await mkdtemp(join(tmpdir(), 'connectme-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    // IGNORE_HTTPS_ERRORS=1: the deploy check's proxy ends TLS with a self-signed certificate.
    ignoreHTTPSErrors: process.env.IGNORE_HTTPS_ERRORS === '1',
    timeout: deadline,
  });
  // The page must work offline: refuse, and report, anything not from the server.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    problems.push(`request to another host: ${url}`);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(deadline);
  // Say which policy a violation broke and what it blocked (Chromium's console
  // message names only the directive).
  await page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || JSON.stringify(e.sample)} (${e.sourceFile}:${e.lineNumber}:${e.columnNumber})`),
    ),
  );
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });

  const res = await page.goto(`${base}/playground`, { waitUntil: 'load' });
  if (!res || res.status() !== 200) throw new Error(`GET /playground: ${res && res.status()}`);
  const csp = res.headers()['content-security-policy'] || '';
  if (!csp.includes("script-src 'self'")) throw new Error(`weak or missing CSP: ${csp}`);

  // GraphiQL renders CodeMirror editors; drive them as a user would.
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');
  const headers = await page.evaluate(() => {
    const cm = document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
    return cm ? cm.CodeMirror.getValue() : '';
  });
  if (!headers.includes('Authorization')) problems.push(`the headers editor does not show the Authorization template: ${JSON.stringify(headers)}`);
  // The schema loads (introspection passes the depth and complexity limits): the
  // documentation explorer lists the root types. INTROSPECTION=false skips this.
  if (process.env.INTROSPECTION !== 'false') {
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.locator('.graphiql-doc-explorer').getByText('Root Types').waitFor();
  }
  // The default document holds several operations, so the run button opens a menu
  // to pick one; the menu inserts a <style> element that only the page's CSP nonce
  // lets through (a violation is reported above).
  await page.click('.graphiql-execute-button');
  await page.locator('[role="menu"]').getByText('ApiInfo').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('[role="menu"]').waitFor({ state: 'detached' });

  await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), query);
  // GraphiQL parses the edited document after a short delay; with one operation
  // the run button runs it instead of opening the menu.
  await page.locator('button.graphiql-execute-button:not([aria-haspopup])').waitFor();
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => {
      const cm = document.querySelector('.graphiql-response .CodeMirror');
      const text = cm ? cm.CodeMirror.getValue() : '';
      return text.includes('"name": "CONNECTME API"') && text.includes('"version": "1.2"');
    },
    null,
    { timeout: deadline, polling: 100 },
  );
  // The answer must be visible on the page, not only in the editor's model.
  const shown = await page.locator('.graphiql-response').innerText();
  if (!shown.includes('CONNECTME API')) problems.push(`the response pane does not show the answer: ${shown}`);
  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
} catch (err) {
  problems.push(`${err.message}`);
} finally {
  await context?.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true });
}

for (const p of problems) console.error(`playground check: ${p}`);
const ok = problems.length === 0;
console.log(`${ok ? 'pass' : 'FAIL'} /playground runs ${query} in headless Chromium`);
console.log(`playground: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
