// Client ID Metadata Documents: the client's client_id is an https URL on loopback serving its metadata (the broker
// runs with deputy.cimd.allow-loopback=true and trusts this test certificate); no DCR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { env, ScriptedLoginProvider, connectWithLogin, claims, structured } from '../lib/harness.mjs';

const redirectUrl = 'http://127.0.0.1:33419/callback';
let server, docUrl;
const fetched = [];

before(async () => {
  server = https.createServer({ key: fs.readFileSync(env.tlsKey), cert: fs.readFileSync(env.tlsCert) }, (req, res) => {
    fetched.push(`${req.method} ${req.url} ${req.headers['user-agent'] ?? ''}`);
    // /oauth/other.json is a document that names another client_id than its own URL
    if (req.url !== '/oauth/client.json' && req.url !== '/oauth/other.json') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    res.end(JSON.stringify({
      client_id: docUrl,
      client_name: 'e2e CIMD client',
      client_uri: new URL('/', docUrl).href,
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }));
  });
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  docUrl = `https://127.0.0.1:${server.address().port}/oauth/client.json`;
});
after(() => server?.close());

test('SDK client with a Client ID Metadata Document URL as client_id: login and tools, no registration', async () => {
  const meta = await (await fetch(`${env.brokerUrl}/.well-known/oauth-authorization-server/t/${env.tenant}`)).json();
  assert.equal(meta.client_id_metadata_document_supported, true);

  const log = [];
  const provider = new ScriptedLoginProvider({ redirectUrl, clientMetadataUrl: docUrl });
  const { client, transport } = await connectWithLogin(env.bankUrl, provider, { fetchLog: log });
  try {
    assert.ok(!log.some(e => e.url.endsWith('/register')), 'no dynamic registration');
    assert.equal(provider.authorizationUrls[0].searchParams.get('client_id'), docUrl);
    assert.ok(fetched.some(f => f.startsWith('GET /oauth/client.json')), `Deputy fetched the document: ${fetched}`);
    assert.ok(provider.browser.consented, 'a CIMD client is external: consent page');
    const at = claims(provider.tokens().access_token);
    assert.equal(at.client_id, docUrl);
    assert.equal(at.sub, env.user);

    assert.deepEqual((await client.listTools()).tools.map(t => t.name).sort(), ['convert_currency', 'get_balance', 'transfer_funds']);
    assert.equal(Number(structured(await client.callTool({ name: 'get_balance', arguments: {} })).balance), env.userBalance);
    assert.equal(Number(structured(await client.callTool({ name: 'convert_currency', arguments: { amount: 100, from: 'AUD', to: 'EUR' } })).converted), 60.61);
  } finally {
    await transport.close();
  }
});

test('a document whose client_id is not its own URL is refused', async () => {
  const bad = docUrl.replace('/oauth/client.json', '/oauth/other.json');
  const provider = new ScriptedLoginProvider({ redirectUrl, clientMetadataUrl: bad });
  // the user sees "not registered"; there is no redirect back to the unverified client
  await assert.rejects(connectWithLogin(env.bankUrl, provider), /authorization stopped at .*\/authorize.* HTTP 4\d\d/);
  assert.ok(fetched.some(f => f.startsWith('GET /oauth/other.json')), `Deputy fetched the document: ${fetched}`);
});
