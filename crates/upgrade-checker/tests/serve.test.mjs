// crates/upgrade-checker/serve.mjs: serves the page's files and nothing else, and survives bad requests.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startServer } from '../serve.mjs';

let server;
let port;

before(async () => {
  server = await startServer(0);
  port = server.address().port;
});

after(() => new Promise((resolve) => server.close(resolve)));

/** A raw GET: fetch() would normalise the paths this test is about. */
function get(path) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, type: response.headers['content-type'] }));
    })
      .on('error', reject)
      .end();
  });
}

test('the page, its modules and the engine are served with their types', async () => {
  assert.deepEqual(await get('/'), { status: 200, type: 'text/html; charset=utf-8' });
  assert.deepEqual(await get('/engine.mjs'), { status: 200, type: 'text/javascript; charset=utf-8' });
  assert.deepEqual(await get('/pkg/upgrade_checker_bg.wasm'), { status: 200, type: 'application/wasm' });
  assert.equal((await get('/examples/cluster-at-0.110.0.yaml')).status, 200);
});

test('nothing outside the page is served, and bad requests do not stop the server', async () => {
  for (const path of ['/check.mjs', '/src/lib.rs', '/Cargo.toml', '/../Cargo.toml', '/%2e%2e/Cargo.toml',
    '/pkg/../../Cargo.toml', '/examples/..%2f..%2fCargo.toml', '/node_modules/playwright-core/package.json']) {
    assert.equal((await get(path)).status, 404, path);
  }
  assert.equal((await get('/%E0%A4%A')).status, 400);
  assert.equal((await get('/')).status, 200, 'the server is still up');
});
