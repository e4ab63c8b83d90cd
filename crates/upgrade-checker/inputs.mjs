// Reading the CLI's inputs from the file system (Node only): files, directories
// (recursively, *.yaml, *.yml and *.json, in name order), '-' for stdin.
// Nothing here throws on bad input: every path gives either its text or the
// reason it cannot be read, and the report lists the reasons.

import { open, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** The most one file may hold (the engine refuses more, with the same words). */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;
/** The most files one run reads: beyond, the directory was probably not meant. */
export const MAX_FILES = 100_000;
export const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

const REASONS = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'a symbolic link loop',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
};

const reason = (error) => REASONS[error.code] ?? error.message;

function tooLarge(bytes) {
  return `${bytes} bytes: this checker reads at most ${MAX_FILE_BYTES / (1024 * 1024)} MiB per input`;
}

/**
 * `bytes` as text: UTF-8 (a byte order mark is dropped), not binary. Returns
 * `{text}` or `{error}`.
 */
export function decode(bytes) {
  if (bytes.includes(0)) return { error: 'not text (it holds NUL bytes: a binary file?)' };
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text };
  } catch {
    return { error: 'not UTF-8 text (a binary file?)' };
  }
}

async function readBounded(path) {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) return { error: tooLarge(size) };
    return decode(await handle.readFile());
  } finally {
    await handle.close();
  }
}

/** All of stdin, bounded: `{text}` or `{error}`. */
export async function readStdin(stream = process.stdin) {
  const chunks = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_FILE_BYTES) {
      stream.destroy?.();
      return { error: tooLarge(`more than ${MAX_FILE_BYTES}`) };
    }
    chunks.push(chunk);
  }
  return decode(Buffer.concat(chunks));
}

/**
 * Every input under `path`: `{file, text}` or `{file, error}`, in order;
 * `inDirectory` is set on files found by walking a directory.
 * `stdin` is read at most once by the caller and passed in for '-'.
 * `counter.files` is shared across paths for MAX_FILES.
 */
export async function* expand(path, { stdin, counter = { files: 0 } } = {}) {
  if (path === '-') {
    yield { file: '-', ...(await stdin()) };
    return;
  }
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    yield { file: path, error: reason(error) };
    return;
  }
  if (!info.isDirectory()) {
    yield* readOne(path, counter);
    return;
  }
  let real;
  try {
    real = await realpath(path);
  } catch (error) {
    yield { file: path, error: reason(error) };
    return;
  }
  // A directory given by name that holds no manifest is named: it is
  // probably the wrong one, and nothing in it was checked.
  let any = false;
  for await (const input of walk(path, [real], counter)) {
    any = true;
    yield input;
  }
  if (!any) yield { file: path, error: `no ${[...MANIFEST_EXTENSIONS].map((e) => `*${e}`).join(', ')} file in this directory` };
}

async function* readOne(file, counter) {
  counter.files++;
  if (counter.files > MAX_FILES) {
    if (counter.files === MAX_FILES + 1) {
      yield { file, error: `more than ${MAX_FILES} files: give the directories that hold the manifests` };
    }
    return;
  }
  try {
    yield { file, ...(await readBounded(file)) };
  } catch (error) {
    yield { file, error: reason(error) };
  }
}

/** A directory, depth first in name order; `ancestors` are the real paths above it, for loops. */
async function* walk(dir, ancestors, counter) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    yield { file: dir, error: reason(error) };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (counter.files > MAX_FILES) return;
    const path = join(dir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(path);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      } catch (error) {
        // A dangling link or one that points at itself.
        if (MANIFEST_EXTENSIONS.has(extname(entry.name)) || error.code === 'ELOOP') {
          yield { file: path, error: reason(error) };
        }
        continue;
      }
    }
    if (isDirectory) {
      let target;
      try {
        target = await realpath(path);
      } catch (error) {
        yield { file: path, error: reason(error) };
        continue;
      }
      if (ancestors.includes(target)) {
        yield { file: path, error: `a symbolic link loop: it leads back to ${target}` };
        continue;
      }
      yield* walk(path, [...ancestors, target], counter);
    } else if (isFile && MANIFEST_EXTENSIONS.has(extname(entry.name))) {
      for await (const input of readOne(path, counter)) yield { ...input, inDirectory: true };
    }
  }
}

/** Whether `path` names a directory (for options that take one file). */
export async function isDirectory(path) {
  try {
    // stat follows links: a link to a directory is one.
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
