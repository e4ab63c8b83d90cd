// The CLI's text report and GitHub Actions annotations, from the engine's
// report (src/batch.rs). Every line starts with a fixed word, and names and
// paths are quoted when they hold control characters, so that no input can
// start a line of its own (on GitHub Actions, a line starting with :: is a
// workflow command).

const VERDICTS = {
  allowed: 'ALLOWED',
  denied: 'DENIED',
  'not-applicable': 'NOT CHECKED',
  'input-error': 'INVALID INPUT',
};

/** A path as shown: JSON-quoted when it holds control characters. */
export function shownPath(file) {
  return /[\u0000-\u001f\u007f]/.test(file) ? JSON.stringify(file) : file;
}

export const where = (file, line) => (line ? `${shownPath(file)}:${line}` : shownPath(file));

/** `"namespace"/"name"` (JSON-quoted: a name is user input). */
export function objectName(object) {
  return `${JSON.stringify(object.namespace)}/${JSON.stringify(object.name ?? '')}`;
}

function verdict(object) {
  const word = VERDICTS[object.outcome] ?? object.outcome.toUpperCase();
  return object.code ? `${word} (${object.code})` : word;
}

/** The block of one checked object. */
export function formatObject(object) {
  const lines = [`${verdict(object)} ${object.operation ?? ''} ${objectName(object)} at ${where(object.file, object.line)}`];
  if (object.message) lines.push(`  message: ${object.message}`);
  for (const warning of object.warnings ?? []) lines.push(`  warning: ${warning}`);
  for (const note of object.notes ?? []) lines.push(`  note: ${note}`);
  if (object.current) lines.push(`  current object: ${where(object.current.file, object.current.line)}`);
  if (object.operation) {
    const binary = object.binaryVersion ? `${object.binaryVersion.version} (from ${object.binaryVersion.source})` : 'unknown';
    const installed = object.operation === 'CREATE' ? 'none (new cluster)' : object.installedSchemaVersion ?? 'unknown';
    lines.push(`  versions: binary ${binary}, installed schema ${installed}`);
  }
  const timeline = object.timeline;
  if (timeline) {
    const steps = timeline.steps.map((step) => {
      const value = step.changed ? `${step.from ?? 'none'} → ${step.to ?? 'none'}` : step.to ?? 'none';
      return `${step.name} ${value}${step.changed ? ' (this change)' : ''}`;
    });
    lines.push(`  timeline: ${steps.join('  ▸  ')}`);
    lines.push(`  this change: ${timeline.summary}`);
    lines.push(`  next safe step: ${timeline.nextStep}`);
  }
  return lines.join('\n');
}

/** How many skipped objects the text report lists when nothing was checked. */
export const SKIPPED_SHOWN = 10;

/** Why nothing was checked, and what to give instead. */
function nothingChecked(report) {
  if (report.errors.length > 0 || !report.settings.valid) return 'nothing checked: fix the inputs named above';
  if (report.skipped.length > 0) {
    return 'nothing checked: none of these objects is a documentdb.io DocumentDB: give the manifests that hold your DocumentDB clusters';
  }
  return 'nothing checked: the given paths hold no objects';
}

/** The whole text report: errors, one block per object, the summary line. */
export function formatReport(report) {
  const blocks = [];
  for (const error of report.errors) blocks.push(`error: ${where(error.file, error.line)}: ${error.message}`);
  if (!report.settings.valid) {
    const source = report.settings.source ? ` (${where(report.settings.source)})` : '';
    blocks.push(`INVALID SETTINGS${source}: ${report.settings.message}`);
  }
  for (const object of report.objects) blocks.push(formatObject(object));
  // Skipped objects are listed only when nothing was checked: the question
  // then is why. A few say it; ten thousand would bury the answer.
  if (report.summary.checked === 0) {
    const shown = report.skipped.slice(0, SKIPPED_SHOWN);
    for (const skipped of shown) blocks.push(`skipped ${where(skipped.file, skipped.line)}: ${skipped.reason}`);
    if (report.skipped.length > shown.length) blocks.push(`… and ${report.skipped.length - shown.length} more objects skipped`);
    blocks.push(nothingChecked(report));
  }
  blocks.push(report.summaryLine);
  return blocks.join('\n\n');
}

/** Workflow command escaping: data, and property values (which also escape : and ,). */
const escapeData = (text) => String(text).replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const escapeProperty = (text) => escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');

/**
 * A path as GitHub wants it in an annotation: relative to the workspace.
 * stdin has no file.
 */
function annotationFile(file, workspace) {
  if (file === '-') return null;
  if (workspace && file.startsWith(`${workspace.replace(/\/$/, '')}/`)) return file.slice(workspace.replace(/\/$/, '').length + 1);
  return file.replace(/^\.\//, '');
}

function annotation(level, { file, line, title }, message, workspace) {
  const properties = [];
  const path = file == null ? null : annotationFile(file, workspace);
  if (path) {
    properties.push(`file=${escapeProperty(path)}`);
    if (line) properties.push(`line=${line}`);
  }
  properties.push(`title=${escapeProperty(title)}`);
  return `::${level} ${properties.join(',')}::${escapeData(message)}`;
}

/**
 * GitHub Actions annotations: each denial and unusable input an error, each
 * warning a warning, at the file and line where the object starts.
 */
export function annotations(report, workspace = process.env.GITHUB_WORKSPACE) {
  const lines = [];
  const title = 'DocumentDB upgrade check';
  for (const error of report.errors) {
    lines.push(annotation('error', { file: error.file, line: error.line, title: `${title}: unusable input` }, error.message, workspace));
  }
  if (!report.settings.valid) {
    lines.push(annotation('error', { title: `${title}: invalid settings` }, report.settings.message, workspace));
  }
  for (const object of report.objects) {
    const at = { file: object.file, line: object.line, title: `${title}: ${object.operation} ${object.namespace}/${object.name ?? ''}` };
    if (!object.allowed) lines.push(annotation('error', at, object.message ?? object.outcome, workspace));
    for (const warning of object.warnings ?? []) lines.push(annotation('warning', at, warning, workspace));
  }
  return lines;
}
