// The page in a real browser: headless Chromium (Debian's /usr/bin/chromium,
// or CHROMIUM_PATH) driven by playwright-core loads crates/upgrade-checker/ from a local server,
// fills in a rollback and an allowed upgrade, and checks what the page shows;
// then multi-document pastes, checked per object, and one that cannot be read.
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

// The DocumentDB document of an example (the examples' manifests start with a Namespace).
const documentDb = (name) => {
  const text = example(name);
  return text.slice(text.indexOf('apiVersion: documentdb.io/'));
};
const renamed = (text, name) => text.replace('name: documentdb-cluster', `name: ${name}`);
const lineOf = (text, needle, from = 0) => text.slice(0, text.indexOf(needle, from)).split('\n').length;

async function checkBatch(page, current, desired) {
  await page.fill('#current', current);
  await page.fill('#desired', desired);
  await page.click('#check');
  await page.waitForSelector('#batch:not([hidden])');
}

/** What each block of #objects shows. */
const blocks = (page) =>
  page.locator('#objects > .result').evaluateAll((items) =>
    items.map((block) => ({
      object: `${block.dataset.namespace}/${block.dataset.name}`,
      title: block.querySelector('.object-name').textContent,
      where: block.querySelector('.object-where').textContent,
      outcome: block.querySelector('.verdict').dataset.outcome,
      verdict: block.querySelector('.verdict').textContent,
      message: block.querySelector('.message').hidden ? null : block.querySelector('.message').textContent,
      warnings: [...block.querySelectorAll('.warnings li')].map((li) => li.textContent),
      stage: block.querySelector('.stage').dataset.stage,
      nextStep: block.querySelector('.next-step').textContent,
      changed: [...block.querySelectorAll('.timeline li.changed')].map((li) => li.textContent),
      hidden: block.hidden,
    })),
  );

test('a multi-document paste is checked per DocumentDB: one block each, the summary line', async (t) => {
  const page = await openPage();
  // `kubectl get documentdb -A -o yaml`: two clusters, one at schema 0.112.0, one at 0.110.0.
  const current = [example('cluster-at-0.112.0.yaml'), renamed(example('cluster-at-0.110.0.yaml'), 'orders')].join('---\n');
  // `helm template`: another kind (its name is markup, which must stay text), a
  // comment-only document, a rollback of the first cluster, phase 1 of the second.
  const desired = [
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "<b>settings</b>"\n  namespace: documentdb-ns\ndata:\n  a: b\n',
    '# Source: documentdb/templates/nothing.yaml\n# (rendered empty)\n',
    documentDb('roll-back-binary-to-0.110.0.yaml'),
    renamed(documentDb('upgrade-binary-to-0.112.0.yaml'), 'orders'),
  ].join('---\n');
  await checkBatch(page, current, desired);

  assert.equal(await text(page, '#summary'), '2 checked: 1 allowed, 1 denied, 1 skipped');
  assert.equal(await page.getAttribute('#summary', 'data-exit-code'), '1');
  assert.equal(await page.isHidden('#result'), true);
  assert.equal(await page.locator('#verdict[data-outcome]').count(), 0, 'a single-object verdict beside the batch');
  assert.deepEqual(await page.locator('#input-errors li').allInnerTexts(), []);
  assert.equal(await page.isHidden('#settings-error'), true);

  const shown = await blocks(page);
  assert.equal(shown.length, 2);
  const [rollback, orders] = shown;
  const rollbackLine = lineOf(desired, 'apiVersion: documentdb.io/');
  const ordersLine = lineOf(desired, 'name: orders') - 3;
  assert.deepEqual(
    { ...rollback, message: undefined },
    {
      object: 'documentdb-ns/documentdb-cluster',
      title: 'UPDATE documentdb-ns/documentdb-cluster',
      where: `Desired manifest, line ${rollbackLine} · Current objects, line 2`,
      outcome: 'denied',
      verdict: 'Denied (422)',
      message: undefined,
      warnings: [],
      stage: 'blocked',
      nextStep: rollback.nextStep,
      changed: ['binary0.112.0 → 0.110.0this change'],
      hidden: false,
    },
  );
  assert.match(rollback.message, /image rollback blocked: requested version 0\.110\.0 is older than installed schema version 0\.112\.0/);
  assert.match(rollback.nextStep, /^keep the binary at 0\.112\.0 or later/);
  assert.deepEqual(
    { ...orders, nextStep: undefined },
    {
      object: 'documentdb-ns/orders',
      title: 'UPDATE documentdb-ns/orders',
      where: `Desired manifest, line ${ordersLine} · Current objects, line ${lineOf(current, 'apiVersion: documentdb.io/', current.indexOf('---\n'))}`,
      outcome: 'allowed',
      verdict: 'Allowed',
      message: null,
      warnings: [
        'Warning: two-phase upgrade: the binary moves to 0.112.0 but the schema stays at 0.110.0 until spec.schemaVersion is set',
      ],
      stage: 'binary-upgrade',
      nextStep: undefined,
      changed: ['binary0.110.0 → 0.112.0this change'],
      hidden: false,
    },
  );
  assert.match(orders.nextStep, /set spec\.schemaVersion: "0\.112\.0" \(phase 2\)/);
  // The copies carry no ids: #verdict and the others stay unique.
  assert.equal(await page.locator('#objects [id]').count(), 0);

  // The ConfigMap is listed as skipped, its name as text.
  assert.equal(await page.isHidden('#skipped-section'), false);
  assert.deepEqual(await page.locator('#skipped li').allTextContents(), [
    'Desired manifest, line 1: "v1" "ConfigMap" is not a documentdb.io DocumentDB (<b>settings</b>)',
  ]);
  assert.equal(await page.locator('#batch b').count(), 0, 'user input rendered as HTML');

  const path = `${SCREENSHOTS}multi-document.png`;
  await page.screenshot({ path, fullPage: true });
  t.diagnostic(`screenshot: ${path}`);

  // Back to one object: the page as before, and the batch gone.
  await checkIn(page, example('cluster-at-0.110.0.yaml'), example('upgrade-binary-to-0.112.0.yaml'));
  assert.equal(await page.isHidden('#batch'), true);
  assert.equal(await text(page, '#verdict'), 'Allowed');
  assert.equal(await page.getAttribute('#stage', 'data-stage'), 'binary-upgrade');
  await page.close();
});

test('objects that name no namespace are paired in the namespace the page is given', async () => {
  const page = await openPage();
  const current = [example('cluster-at-0.112.0.yaml'), renamed(example('cluster-at-0.110.0.yaml'), 'orders')].join('---\n');
  const withoutNamespace = (text) => text.replace('  namespace: documentdb-ns\n', '');
  const desired = [
    withoutNamespace(documentDb('roll-back-binary-to-0.110.0.yaml')),
    withoutNamespace(renamed(documentDb('upgrade-binary-to-0.112.0.yaml'), 'orders')),
  ].join('---\n');
  await checkBatch(page, current, desired);
  let shown = await blocks(page);
  assert.deepEqual(shown.map((block) => block.title), ['CREATE default/documentdb-cluster', 'CREATE default/orders']);
  assert.match(
    await page.locator('#objects > .result .notes li').first().innerText(),
    /^Note: checked as a CREATE: no current object "default"\/"documentdb-cluster", but there is one in namespace "documentdb-ns"/,
  );

  await page.fill('#namespace', 'documentdb-ns');
  await page.click('#check');
  await page.waitForFunction(() => document.querySelector('#objects .object-name')?.textContent.startsWith('UPDATE'));
  shown = await blocks(page);
  assert.deepEqual(
    shown.map((block) => [block.title, block.outcome]),
    [
      ['UPDATE documentdb-ns/documentdb-cluster', 'denied'],
      ['UPDATE documentdb-ns/orders', 'allowed'],
    ],
  );
  assert.equal(await text(page, '#summary'), '2 checked: 1 allowed, 1 denied, 0 skipped');
  await page.close();
});

test('a YAML syntax error in the second document: the error at its line, nothing checked', async (t) => {
  const page = await openPage();
  const broken = 'apiVersion: documentdb.io/preview\nkind: DocumentDB\nmetadata:\n  name: orders\n spec: [\n';
  const desired = `${documentDb('upgrade-binary-to-0.112.0.yaml')}---\n${broken}`;
  const line = lineOf(desired, ' spec: [');
  await checkBatch(page, example('cluster-at-0.110.0.yaml'), desired);

  const errors = page.locator('#input-errors li');
  assert.equal(await errors.count(), 1);
  assert.equal(await errors.first().getAttribute('data-file'), 'desired');
  assert.equal(await errors.first().getAttribute('data-line'), String(line));
  assert.match(await errors.first().innerText(), new RegExp(`^Desired manifest, line ${line}: not valid YAML: .*at line ${line} column \\d+`));
  assert.equal(await text(page, '#summary'), '0 checked: 0 allowed, 0 denied, 0 skipped; 1 input error');
  assert.equal(await page.getAttribute('#summary', 'data-exit-code'), '2');
  assert.equal(await page.locator('#objects > *').count(), 0);
  assert.equal(await page.isHidden('#result'), true);

  const path = `${SCREENSHOTS}input-error.png`;
  await page.screenshot({ path, fullPage: true });
  t.diagnostic(`screenshot: ${path}`);
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
  // The fleet: several objects on each side, checked per DocumentDB.
  await page.selectOption('#example', 'fleet');
  await page.waitForFunction(() => !document.getElementById('batch').hidden);
  assert.equal(await text(page, '#summary'), '3 checked: 2 allowed, 1 denied, 2 skipped');
  assert.equal(await page.locator('#objects .result').count(), 3);
  await page.close();
  assert.deepEqual(foreignRequests, [], 'the page requested something outside the local server');
  assert.deepEqual(pageErrors, [], 'the page logged errors');
});
