// The page: reads the inputs, asks the engine (the policy's rules in
// WebAssembly), shows the report. No decision is made here.
//
// One DocumentDB on each side: engine.check(), one result block (#result).
// Several (`kubectl get documentdb -A -o yaml`, `helm template` output), or
// input that cannot be read: engine.batch(), the summary line, the input
// errors at their line and one result block per DocumentDB (#batch).

import { loadEngine } from './engine.mjs';

const $ = (id) => document.getElementById(id);

const EXAMPLES = {
  'phase-1': ['cluster-at-0.110.0.yaml', 'upgrade-binary-to-0.112.0.yaml'],
  'phase-2': ['cluster-binary-0.112.0-schema-0.110.0.yaml', 'update-schema-to-0.112.0.yaml'],
  rollback: ['cluster-at-0.112.0.yaml', 'roll-back-binary-to-0.110.0.yaml'],
  new: [null, 'upgrade-binary-to-0.112.0.yaml'],
  fleet: ['fleet-current.yaml', 'fleet-helm-template.yaml'],
};

const VERDICTS = {
  allowed: ['Allowed', 'allowed'],
  denied: ['Denied', 'denied'],
  'not-applicable': ['Allowed: the policy does not check this object', 'allowed'],
  'settings-refused': ['Invalid settings: the policy would not start', 'invalid'],
  'input-error': ['Cannot read the input', 'invalid'],
};

// What the page calls its inputs in a batch report (the engine's file names).
const INPUTS = {
  current: 'Current objects',
  desired: 'Desired manifest',
  settings: 'Policy settings',
};

const at = (file, line) => `${INPUTS[file] ?? file}${line ? `, line ${line}` : ''}`;

function fillList(list, items) {
  list.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement('li');
      item.textContent = text;
      return item;
    }),
  );
}

function renderTimeline(part, timeline) {
  part('timeline-section').hidden = !timeline;
  if (!timeline) return;
  part('timeline').replaceChildren(
    ...timeline.steps.map((step) => {
      const item = document.createElement('li');
      item.className = step.changed ? 'step changed' : 'step';
      item.dataset.step = step.name;
      const name = document.createElement('span');
      name.className = 'step-name';
      name.textContent = step.name;
      const value = document.createElement('span');
      value.className = 'step-value';
      value.textContent = step.changed ? `${step.from ?? 'none'} → ${step.to ?? 'none'}` : step.to ?? 'none';
      item.append(name, value);
      if (step.changed) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this change';
        item.append(badge);
      }
      return item;
    }),
  );
  part('stage').textContent = timeline.summary;
  part('stage').dataset.stage = timeline.stage;
  part('next-step').textContent = timeline.nextStep;
}

/**
 * One object's report (check()'s, or one of a batch's objects) into a result
 * block: #result itself, or a copy of it. `title`: the object's name and
 * where it was read, shown above the verdict when there are several.
 */
function renderObject(block, report, title = null) {
  const part = (name) => block.querySelector(`.${name}`);
  const [verdictTitle, tone] = VERDICTS[report.outcome] ?? [report.outcome, 'invalid'];
  part('object-title').hidden = !title;
  part('object-name').textContent = title?.name ?? '';
  part('object-where').textContent = title?.where ?? '';
  const verdict = part('verdict');
  verdict.textContent = report.code ? `${verdictTitle} (${report.code})` : verdictTitle;
  verdict.dataset.outcome = report.outcome;
  block.className = `result ${tone}`;
  part('message').textContent = report.message ?? '';
  part('message').hidden = !report.message;
  fillList(part('warnings'), (report.warnings ?? []).map((w) => `Warning: ${w}`));
  fillList(part('notes'), (report.notes ?? []).map((n) => `Note: ${n}`));
  const binary = report.binaryVersion;
  part('binary-version').textContent = binary ? `${binary.version} (from ${binary.source})` : 'unknown';
  part('installed-schema').textContent =
    report.operation === 'CREATE' ? 'none (new cluster)' : report.installedSchemaVersion ?? 'unknown';
  renderTimeline(part, report.timeline);
  block.hidden = false;
}

// #result as the page was loaded, without its ids: the block of each object
// of a batch is a copy of it.
let pristineBlock;

function newBlock() {
  return pristineBlock.cloneNode(true);
}

/** One object, as the page always showed it. */
function renderSingle(report) {
  $('batch').hidden = true;
  renderObject($('result'), report);
}

/** A batch report: the summary line, the input errors, one block per DocumentDB. */
function renderBatch(report) {
  // Never leave a single-object verdict on screen (nor in the DOM) beside a batch.
  $('result').hidden = true;
  delete $('verdict').dataset.outcome;

  const tone = ['allowed', 'denied'][report.exitCode] ?? 'invalid';
  $('batch').className = `batch ${tone}`;
  $('summary').textContent = report.summaryLine;
  $('summary').dataset.exitCode = String(report.exitCode);

  const settings = report.settings ?? { valid: true };
  $('settings-error').hidden = settings.valid;
  $('settings-message').textContent = settings.valid ? '' : settings.message ?? '';

  $('input-errors').replaceChildren(
    ...(report.errors ?? []).map((error) => {
      const item = document.createElement('li');
      item.dataset.file = error.file;
      if (error.line) item.dataset.line = String(error.line);
      item.textContent = `${at(error.file, error.line)}: ${error.message}`;
      return item;
    }),
  );

  $('objects').replaceChildren(
    ...(report.objects ?? []).map((object) => {
      const block = newBlock();
      block.dataset.namespace = object.namespace;
      block.dataset.name = object.name ?? '';
      const current = object.current
        ? at(object.current.file, object.current.line)
        : 'no current object of this namespace and name: a new cluster';
      renderObject(block, object, {
        name: `${object.operation ?? ''} ${object.namespace}/${object.name ?? '(no name)'}`.trim(),
        where: `${at(object.file, object.line)} · ${current}`,
      });
      return block;
    }),
  );

  const skipped = report.skipped ?? [];
  $('skipped-section').hidden = skipped.length === 0;
  // Open when nothing was checked: the question then is why.
  $('skipped-section').open = skipped.length > 0 && report.summary?.checked === 0;
  $('skipped-title').textContent = `Skipped: ${skipped.length} ${skipped.length === 1 ? 'object' : 'objects'} the policy does not check`;
  fillList(
    $('skipped'),
    skipped.map((object) => `${at(object.file, object.line)}: ${object.reason}${object.name ? ` (${object.name})` : ''}`),
  );
  $('batch').hidden = false;
}

/**
 * How many DocumentDBs a text holds, and whether it can be read: the
 * engine reads it as a batch would, without checking anything.
 */
function survey(engine, text) {
  if (!text.trim()) return { documentDbs: 0, errors: 0 };
  const probe = engine.batch();
  probe.desired('probe', text);
  return probe.survey();
}

/**
 * At most one DocumentDB on each side: check(), as the page always did (it
 * pairs the two whatever their names, and reports other kinds as not
 * checked). More, or input that cannot be read: the batch, which pairs by
 * namespace/name and says at which line an input is unusable.
 */
function checkInputs(engine, { current, desired, settings, namespace }) {
  const [before, after] = [survey(engine, current), survey(engine, desired)];
  if (before.errors === 0 && after.errors === 0 && before.documentDbs <= 1 && after.documentDbs <= 1) {
    return { single: engine.check(current, desired, settings) };
  }
  const batch = engine.batch(namespace.trim());
  batch.settings('settings', settings);
  // Blank is a new cluster (the batch refuses an empty current input: in a
  // pipe it means a failed kubectl get).
  if (current.trim()) batch.current('current', current);
  batch.desired('desired', desired);
  return { batch: batch.run() };
}

async function loadExample(name) {
  const [current, desired] = EXAMPLES[name] ?? [];
  if (!desired) return;
  const text = async (file) => (file ? (await fetch(`examples/${file}`)).text() : '');
  [$('current').value, $('desired').value] = await Promise.all([text(current), text(desired)]);
}

function readFileInto(input, textarea) {
  input.addEventListener('change', async () => {
    const [file] = input.files;
    if (file) textarea.value = await file.text();
  });
}

async function main() {
  pristineBlock = $('result').cloneNode(true);
  pristineBlock.removeAttribute('aria-live');
  for (const element of [pristineBlock, ...pristineBlock.querySelectorAll('[id]')]) element.removeAttribute('id');

  readFileInto($('current-file'), $('current'));
  readFileInto($('desired-file'), $('desired'));
  let engine;
  try {
    engine = await loadEngine();
  } catch (error) {
    $('load-error').textContent = `The rule engine did not load (${error.message}). Build it with \`make web\`.`;
    $('load-error').hidden = false;
    return;
  }
  $('policy-version').textContent = `v${engine.policyVersion}`;
  const run = () => {
    let answer;
    try {
      answer = checkInputs(engine, {
        current: $('current').value,
        desired: $('desired').value,
        settings: $('settings').value,
        namespace: $('namespace').value,
      });
    } catch (error) {
      // Not a verdict: never leave the previous one on screen.
      answer = { single: { outcome: 'input-error', allowed: false, message: `the rule engine failed (${error.message}); reload the page` } };
    }
    if (answer.single) renderSingle(answer.single);
    else renderBatch(answer.batch);
  };
  $('check').addEventListener('click', run);
  $('example').addEventListener('change', async (event) => {
    await loadExample(event.target.value);
    run();
  });
  $('check').disabled = false;
  document.body.dataset.ready = 'true';
}

main();
