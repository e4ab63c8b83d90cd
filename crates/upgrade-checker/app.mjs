// The page: reads the three inputs, asks the engine (the policy's rules in
// WebAssembly), shows the report. No decision is made here.

import { loadEngine } from './engine.mjs';

const $ = (id) => document.getElementById(id);

const EXAMPLES = {
  'phase-1': ['cluster-at-0.110.0.yaml', 'upgrade-binary-to-0.112.0.yaml'],
  'phase-2': ['cluster-binary-0.112.0-schema-0.110.0.yaml', 'update-schema-to-0.112.0.yaml'],
  rollback: ['cluster-at-0.112.0.yaml', 'roll-back-binary-to-0.110.0.yaml'],
  new: [null, 'upgrade-binary-to-0.112.0.yaml'],
};

const VERDICTS = {
  allowed: ['Allowed', 'allowed'],
  denied: ['Denied', 'denied'],
  'not-applicable': ['Allowed: the policy does not check this object', 'allowed'],
  'settings-refused': ['Invalid settings: the policy would not start', 'invalid'],
  'input-error': ['Cannot read the input', 'invalid'],
};

function fillList(list, items) {
  list.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement('li');
      item.textContent = text;
      return item;
    }),
  );
}

function renderTimeline(timeline) {
  $('timeline-section').hidden = !timeline;
  if (!timeline) return;
  $('timeline').replaceChildren(
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
  $('stage').textContent = timeline.summary;
  $('stage').dataset.stage = timeline.stage;
  $('next-step').textContent = timeline.nextStep;
}

function render(report) {
  const [title, tone] = VERDICTS[report.outcome] ?? [report.outcome, 'invalid'];
  const verdict = $('verdict');
  verdict.textContent = report.code ? `${title} (${report.code})` : title;
  verdict.dataset.outcome = report.outcome;
  $('result').className = `result ${tone}`;
  $('message').textContent = report.message ?? '';
  $('message').hidden = !report.message;
  fillList($('warnings'), (report.warnings ?? []).map((w) => `Warning: ${w}`));
  fillList($('notes'), (report.notes ?? []).map((n) => `Note: ${n}`));
  const binary = report.binaryVersion;
  $('binary-version').textContent = binary ? `${binary.version} (from ${binary.source})` : 'unknown';
  $('installed-schema').textContent =
    report.operation === 'CREATE' ? 'none (new cluster)' : report.installedSchemaVersion ?? 'unknown';
  renderTimeline(report.timeline);
  $('result').hidden = false;
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
    let report;
    try {
      report = engine.check($('current').value, $('desired').value, $('settings').value);
    } catch (error) {
      // Not a verdict: never leave the previous one on screen.
      report = { outcome: 'input-error', allowed: false, message: `the rule engine failed (${error.message}); reload the page` };
    }
    render(report);
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
