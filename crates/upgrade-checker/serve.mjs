#!/usr/bin/env node
// Serves crates/upgrade-checker/ on 127.0.0.1 for the page (ES modules and WebAssembly need
// http://, not file://). Nothing is fetched from anywhere else.
//
//   node crates/upgrade-checker/serve.mjs [PORT]     (default 8080; 0 picks a free port)

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.yaml': 'text/yaml; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// Only what the page needs: not the Rust sources, tests or node_modules.
const SERVED = /^(index\.html|app\.mjs|engine\.mjs|style\.css|examples\/[\w.-]+\.yaml|pkg\/[\w.-]+\.(js|wasm))$/;

export function startServer(port = 8080, host = '127.0.0.1') {
  const server = createServer(async (request, response) => {
    let path;
    try {
      path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname).replace(/^\/+/, '');
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('bad request\n');
      return;
    }
    if (path === '') path = 'index.html';
    const file = normalize(join(ROOT, path));
    if (!SERVED.test(path) || !file.startsWith(ROOT) || path.split(sep).includes('..')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found (run `make web`?)\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.argv[2] ?? 8080);
  const server = await startServer(port);
  console.log(`DocumentDB upgrade check: http://127.0.0.1:${server.address().port}/`);
}
