// The official TypeScript SDK client against the banking MCP server: 401 -> PRM -> Deputy metadata -> DCR ->
// PKCE login through the upstream IdP (scripted) -> token -> tools/list and both tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, ScriptedLoginProvider, connectWithLogin, claims, structured } from '../lib/harness.mjs';

test('SDK client: discovery, dynamic client registration, PKCE login, both tools', async () => {
  const log = [];
  const provider = new ScriptedLoginProvider({ clientName: 'e2e DCR client' });
  const { client, transport } = await connectWithLogin(env.bankUrl, provider, { fetchLog: log });
  try {
    const seen = log.map(e => `${e.method} ${e.url.split('?')[0]} ${e.status}`);
    const first = log[0];
    assert.equal(first.url, env.bankUrl);
    assert.equal(first.status, 401, 'the MCP server asks for a token first');
    assert.match(first.www, new RegExp(`resource_metadata="${env.prmUrl}"`));
    assert.ok(seen.includes(`GET ${env.prmUrl} 200`), `PRM fetched: ${seen.join('\n')}`);
    assert.ok(seen.includes(`GET ${env.brokerUrl}/.well-known/oauth-authorization-server/t/${env.tenant} 200`),
      `RFC 8414 metadata fetched: ${seen.join('\n')}`);
    assert.ok(seen.includes(`POST ${env.issuer}/register 201`), `registered by DCR: ${seen.join('\n')}`);
    assert.ok(seen.includes(`POST ${env.issuer}/token 200`), `code redeemed: ${seen.join('\n')}`);

    const auth = provider.authorizationUrls[0];
    assert.equal(auth.origin + auth.pathname, `${env.issuer}/authorize`);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('resource'), env.bankUrl);
    assert.equal(auth.searchParams.get('client_id'), provider.clientInformation().client_id);
    assert.ok(provider.browser.visited.some(v => v.startsWith(`GET ${env.idpIssuer}/authorize`)),
      `went through the upstream IdP: ${provider.browser.visited.join('\n')}`);
    assert.ok(provider.browser.consented, 'a DCR client is external: the user saw the consent page');

    const at = claims(provider.tokens().access_token);
    assert.equal(at.iss, env.issuer);
    assert.equal(at.sub, env.user);
    assert.deepEqual([].concat(at.aud), [env.bankUrl]);
    assert.deepEqual(at.scope.split(' ').sort(), ['balance:read', 'fx:convert']);

    const tools = (await client.listTools()).tools.map(t => t.name).sort();
    assert.deepEqual(tools, ['convert_currency', 'get_balance', 'transfer_funds']);
    const balance = structured(await client.callTool({ name: 'get_balance', arguments: {} }));
    assert.equal(balance.sub, env.user);
    assert.equal(Number(balance.balance), env.userBalance);
    const fx = structured(await client.callTool({ name: 'convert_currency', arguments: { amount: 100, from: 'EUR', to: 'AUD' } }));
    assert.equal(Number(fx.converted), 165);
  } finally {
    await transport.close();
  }
});
