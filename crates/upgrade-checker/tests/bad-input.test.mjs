// Bad input never crashes the checker: each row gets a clear line and a
// defined exit status (2: unusable input or nothing checked). What is good
// beside it is still checked and reported.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, tempDir } from './installed.mjs';

const CHECK = fileURLToPath(new URL('../check.mjs', import.meta.url));
const NEW_CLUSTER = fileURLToPath(new URL('../examples/upgrade-binary-to-0.112.0.yaml', import.meta.url));
const MIB = 1024 * 1024;

// A set-up that writes one file and checks it.
const oneFile = (name, content) => (dir) => {
  writeFileSync(join(dir, name), content);
  return [name];
};

const configMap = (name) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

// [name, set up the directory (returns the arguments), exit status, lines the output holds, stdin]
const rows = [
  [
    'malformed YAML: the file, the line and the parser',
    oneFile('bad.yaml', 'apiVersion: documentdb.io/preview\nkind: DocumentDB\nmetadata:\n  name: x\n  bad: [unclosed\n'),
    2,
    [
      "error: bad.yaml:6: not valid YAML: did not find expected ',' or ']' at line 6 column 1, while parsing a flow sequence at line 5 column 8",
      'nothing checked: fix the inputs named above',
      '0 checked: 0 allowed, 0 denied, 0 skipped; 1 input error',
    ],
  ],
  [
    'malformed JSON',
    oneFile('bad.json', '{"apiVersion": "documentdb.io/preview", "kind": "DocumentDB",\n "metadata": {"name": "x"\n'),
    2,
    ['error: bad.json:3: not valid JSON: EOF while parsing an object at line 3 column 0 (JSON exactly as the API server reads it)'],
  ],
  [
    'a YAML alias bomb',
    (dir) => {
      const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (const [i, name] of [...'bcdefgh'].entries()) {
        const previous = 'abcdefg'[i];
        levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
      }
      writeFileSync(join(dir, 'bomb.yaml'), `${levels.join('\n')}\n`);
      return ['bomb.yaml'];
    },
    2,
    ['error: bomb.yaml:1: not valid YAML: repetition limit exceeded'],
  ],
  [
    'an unrendered Helm template',
    oneFile('tmpl.yaml', 'apiVersion: documentdb.io/preview\nkind: DocumentDB\nmetadata:\n  name: {{ .Values.name }}\n'),
    2,
    ['error: tmpl.yaml:1: cannot be read as a Kubernetes object: key must be a string (an unrendered template placeholder such as {{NAME}}?)'],
  ],
  [
    'a 50 MB file: refused before it is read',
    (dir) => oneFile('big.yaml', `${configMap('big')}data:\n  blob: ${'x'.repeat(50 * MIB)}\n`)(dir),
    2,
    [`error: big.yaml: ${50 * MIB + 68} bytes: this checker reads at most 32 MiB per input`],
  ],
  [
    '50 MB on stdin: reading stops at the bound',
    () => ['-'],
    2,
    [`error: -: more than ${32 * MIB} bytes: this checker reads at most 32 MiB per input`],
    'a'.repeat(50 * MIB),
  ],
  [
    'a binary file named .yaml',
    oneFile('image.yaml', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00])),
    2,
    ['error: image.yaml: not text (it holds NUL bytes: a binary file?)'],
  ],
  [
    'text that is not UTF-8',
    oneFile('latin1.yaml', Buffer.from('\xe9t\xe9: 1\n', 'latin1')),
    2,
    ['error: latin1.yaml: not UTF-8 text (a binary file?)'],
  ],
  [
    'a symbolic link loop in a directory: named once, the rest still checked',
    (dir) => {
      mkdirSync(join(dir, 'manifests'));
      copyFileSync(NEW_CLUSTER, join(dir, 'manifests', 'cluster.yaml'));
      symlinkSync('.', join(dir, 'manifests', 'again'));
      return ['manifests'];
    },
    2,
    [
      (dir) => `error: manifests/again: a symbolic link loop: it leads back to ${join(dir, 'manifests')}`,
      'ALLOWED CREATE "documentdb-ns"/"documentdb-cluster" at manifests/cluster.yaml:7',
      '1 checked: 1 allowed, 0 denied, 1 skipped; 1 input error',
    ],
  ],
  [
    'a file that links to itself',
    (dir) => {
      symlinkSync('self.yaml', join(dir, 'self.yaml'));
      return ['self.yaml'];
    },
    2,
    ['error: self.yaml: a symbolic link loop'],
  ],
  [
    'a path that does not exist',
    () => ['missing.yaml'],
    2,
    ['error: missing.yaml: no such file or directory'],
  ],
  [
    'an empty directory',
    (dir) => {
      mkdirSync(join(dir, 'empty'));
      return ['empty'];
    },
    2,
    ['error: empty: no *.yaml, *.yml, *.json file in this directory', '0 checked: 0 allowed, 0 denied, 0 skipped; 1 input error'],
  ],
  [
    'comments only',
    oneFile('notes.yaml', '# nothing here\n---\n# nor here\n'),
    2,
    ['nothing checked: the given paths hold no objects', '0 checked: 0 allowed, 0 denied, 0 skipped'],
  ],
  [
    'a directory of 10,000 files without a DocumentDB: ten listed, the count, why nothing was checked',
    (dir) => {
      mkdirSync(join(dir, 'rendered'));
      for (let i = 0; i < 10_000; i++) writeFileSync(join(dir, 'rendered', `cm-${String(i).padStart(5, '0')}.yaml`), configMap(`cm-${i}`));
      return ['rendered'];
    },
    2,
    [
      'skipped rendered/cm-00000.yaml:1: "v1" "ConfigMap" is not a documentdb.io DocumentDB',
      'skipped rendered/cm-00009.yaml:1: "v1" "ConfigMap" is not a documentdb.io DocumentDB',
      '… and 9990 more objects skipped',
      'nothing checked: none of these objects is a documentdb.io DocumentDB: give the manifests that hold your DocumentDB clusters',
      '0 checked: 0 allowed, 0 denied, 10000 skipped',
    ],
  ],
  [
    'a directory where --policy takes one file',
    (dir) => {
      mkdirSync(join(dir, 'policies'));
      copyFileSync(NEW_CLUSTER, join(dir, 'cluster.yaml'));
      return ['--policy', 'policies', 'cluster.yaml'];
    },
    2,
    ['error: policies: is a directory: --policy takes one file'],
  ],
];

for (const [name, setUp, status, expected, input] of rows) {
  test(`bad input: ${name}`, () => {
    const dir = tempDir('checker-bad-input-');
    const args = setUp(dir);
    const result = run(process.execPath, [CHECK, ...args], { cwd: dir, input });
    assert.equal(result.status, status, result.stdout + result.stderr);
    assert.equal(result.stderr, '', 'bad input is reported, not thrown');
    const lines = result.stdout.split('\n');
    for (const line of expected) {
      const text = typeof line === 'function' ? line(dir) : line;
      assert.ok(lines.includes(text), `expected the line\n  ${text}\nin\n${result.stdout.slice(0, 4000)}`);
    }
  });
}
