// The page in a real browser: headless Chromium (Debian's /usr/bin/chromium,
// or CHROMIUM_PATH) driven by playwright-core loads crates/upgrade-checker/ from a local server,
// fills in a rollback and an allowed upgrade, and checks what the page shows.
// Screenshots go to target/web-tests/ (printed as test diagnostics). Last,
// every two-document case of the e2e table goes through the page's form and
// must show what the Kubewarden module answered.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';
import { asDocuments, moduleCases, moduleDecision, requestOf, toYaml } from './table.mjs';

const EXAMPLES = new URL('../examples/', import.meta.url);
const SCREENSHOTS = fileURLToPath(new URL('../../../target/web-tests/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const example = (name) => readFileSync(new URL(name, EXAMPLES), 'utf8');

let server;
let browser;
let origin;
const foreignRequests = [];
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  server = await startServer(0);
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no user namespaces for the sandbox; the rest
    // keeps Chromium from calling home on a machine with no internet.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  // Offline: anything not served by the local server is recorded and refused.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin)) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(`${origin}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  return page;
}

async function checkIn(page, current, desired) {
  await page.fill('#current', current);
  await page.fill('#desired', desired);
  await page.click('#check');
  await page.waitForSelector('#result:not([hidden])');
}

const text = (page, selector) => page.locator(selector).innerText();

test('a rollback below the installed schema is denied, with the way out', async (t) => {
  const page = await openPage();
  await checkIn(page, example('cluster-at-0.112.0.yaml'), example('roll-back-binary-to-0.110.0.yaml'));

  assert.equal(await page.getAttribute('#verdict', 'data-outcome'), 'denied');
  assert.equal(await text(page, '#verdict'), 'Denied (422)');
  const message = await text(page, '#message');
  assert.match(message, /image rollback blocked: requested version 0\.110\.0 is older than installed schema version 0\.112\.0/);
  assert.match(message, /^DocumentDB\.documentdb\.io "documentdb-cluster" is invalid/);
  assert.equal(await text(page, '#binary-version'), '0.110.0 (from the tag of spec.image.documentDB)');
  assert.equal(await text(page, '#installed-schema'), '0.112.0');
  assert.equal(await page.getAttribute('#stage', 'data-stage'), 'blocked');
  assert.match(await text(page, '#next-step'), /^keep the binary at 0\.112\.0 or later/);
  const binaryStep = page.locator('#timeline li[data-step="binary"]');
  assert.match(await binaryStep.innerText(), /0\.112\.0 → 0\.110\.0/);
  assert.equal(await binaryStep.getAttribute('class'), 'step changed');

  const path = `${SCREENSHOTS}rollback-denied.png`;
  await page.screenshot({ path, fullPage: true });
  t.diagnostic(`screenshot: ${path}`);
  await page.close();
});

test('phase 1 of a two-phase upgrade is allowed, and the page names phase 2', async (t) => {
  const page = await openPage();
  await checkIn(page, example('cluster-at-0.110.0.yaml'), example('upgrade-binary-to-0.112.0.yaml'));

  assert.equal(await page.getAttribute('#verdict', 'data-outcome'), 'allowed');
  assert.equal(await text(page, '#verdict'), 'Allowed');
  assert.equal(await page.isHidden('#message'), true);
  assert.deepEqual(await page.locator('#warnings li').allInnerTexts(), [
    'Warning: two-phase upgrade: the binary moves to 0.112.0 but the schema stays at 0.110.0 until spec.schemaVersion is set',
  ]);
  assert.equal(await page.getAttribute('#stage', 'data-stage'), 'binary-upgrade');
  assert.equal(await text(page, '#stage'), 'phase 1 of 2: binary 0.110.0 → 0.112.0; the schema stays at 0.110.0');
  assert.match(await text(page, '#next-step'), /set spec\.schemaVersion: "0\.112\.0" \(phase 2\)/);
  const steps = await page.locator('#timeline li').evaluateAll((items) =>
    items.map((item) => [item.dataset.step, item.classList.contains('changed')]),
  );
  assert.deepEqual(steps, [
    ['installed schema', false],
    ['binary', true],
    ['schema', false],
  ]);

  const path = `${SCREENSHOTS}phase-1-allowed.png`;
  await page.screenshot({ path, fullPage: true });
  t.diagnostic(`screenshot: ${path}`);
  await page.close();
});

test('an uploaded manifest and the settings take part in the check', async () => {
  const page = await openPage();
  await page.setInputFiles('#desired-file', fileURLToPath(new URL('upgrade-binary-to-0.112.0.yaml', EXAMPLES)));
  await page.waitForFunction(() => document.getElementById('desired').value.includes('kind: DocumentDB'));
  await page.fill('#current', '');
  await page.click('details.field summary');
  await page.fill('#settings', 'allowAutoSchemaVersion: maybe');
  await page.click('#check');
  await page.waitForSelector('#result:not([hidden])');
  assert.equal(await page.getAttribute('#verdict', 'data-outcome'), 'settings-refused');
  assert.match(await text(page, '#message'), /allowAutoSchemaVersion must be a boolean \(true or false\), not a string \("maybe"\)/);

  await page.fill('#settings', '');
  await page.click('#check');
  await page.waitForFunction(() => document.getElementById('verdict').dataset.outcome === 'allowed');
  assert.equal(await page.getAttribute('#stage', 'data-stage'), 'new-cluster');
  assert.equal(await text(page, '#installed-schema'), 'none (new cluster)');
  await page.close();
});

test('the whole e2e table through the page: what it shows is what the module answered', async () => {
  const page = await openPage();
  await page.click('details.field summary');
  let checked = 0;
  for (const testCase of moduleCases()) {
    const documents = asDocuments(requestOf(testCase));
    if (!documents) continue;
    const [current, desired] = documents;
    await page.fill('#current', current ? toYaml(current) : '');
    await page.fill('#desired', toYaml(desired));
    await page.fill('#settings', toYaml(testCase.settings));
    // Clear the previous verdict, so that a page that stopped updating cannot pass.
    await page.evaluate(() => delete document.getElementById('verdict').dataset.outcome);
    await page.click('#check');
    await page.waitForSelector('#verdict[data-outcome]');
    const shown = await page.evaluate(() => ({
      outcome: document.getElementById('verdict').dataset.outcome,
      verdict: document.getElementById('verdict').textContent,
      message: document.getElementById('message').hidden ? null : document.getElementById('message').textContent,
      warnings: [...document.querySelectorAll('#warnings li')].map((li) => li.textContent.replace(/^Warning: /, '')),
    }));
    const expected = moduleDecision(testCase.outcome);
    if (expected.settingsRefused !== undefined) {
      assert.equal(shown.outcome, 'settings-refused', testCase.name);
      assert.equal(shown.message, `the policy settings are invalid: ${expected.settingsRefused}`, testCase.name);
    } else {
      const allowed = shown.outcome === 'allowed' || shown.outcome === 'not-applicable';
      const code = shown.verdict.match(/\((\d+)\)$/)?.[1];
      assert.deepEqual(
        { allowed, code: code ? Number(code) : null, message: shown.message, warnings: shown.warnings },
        expected,
        testCase.name,
      );
    }
    checked++;
  }
  assert.ok(checked > 50, `only ${checked} cases went through the page`);
  await page.close();
});

test('the examples load and the page worked offline, without errors', async () => {
  const page = await openPage();
  await page.selectOption('#example', 'phase-2');
  await page.waitForFunction(() => document.getElementById('stage').dataset.stage === 'schema-update');
  assert.equal(await text(page, '#verdict'), 'Allowed');
  await page.close();
  assert.deepEqual(foreignRequests, [], 'the page requested something outside the local server');
  assert.deepEqual(pageErrors, [], 'the page logged errors');
});
