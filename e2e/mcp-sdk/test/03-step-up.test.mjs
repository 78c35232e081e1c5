// Step-up (MCP "Scope Challenge Handling"): the first authorization asks only for balance:read; convert_currency then
// gets 403 insufficient_scope; the SDK re-authorizes with the scope from the challenge, and the call succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { env, ScriptedLoginProvider, connectWithLogin, recordingFetch, claims, structured } from '../lib/harness.mjs';

/**
 * The SDK (1.32.2) answers a 403 by running auth(), which first tries the refresh token when it has one; a refresh
 * cannot widen the scope (RFC 6749 §6), so the retry gets the same 403 and the SDK gives up ("Server returned 403
 * after trying upscoping"). This client therefore keeps no refresh token, so that the 403 leads to a new
 * authorization request — which is what the step-up needs.
 */
class NoRefreshProvider extends ScriptedLoginProvider {
  saveTokens(tokens) {
    const { refresh_token, ...rest } = tokens;
    super.saveTokens(rest);
  }
}

test('step-up: 403 insufficient_scope, re-authorization with the larger scope, then success', async () => {
  const log = [];
  const provider = new NoRefreshProvider({
    clientName: 'e2e step-up client',
    // the first authorization request asks only for the balance (the SDK would take both scopes from the 401)
    rewriteScope: (url, round) => { if (round === 0) url.searchParams.set('scope', 'balance:read'); },
  });
  const { client, transport } = await connectWithLogin(env.bankUrl, provider, { fetchLog: log });
  try {
    assert.equal(claims(provider.tokens().access_token).scope, 'balance:read');
    structured(await client.callTool({ name: 'get_balance', arguments: {} }));
    const visitedBefore = provider.browser.visited.length;

    const call = () => client.callTool({ name: 'convert_currency', arguments: { amount: 10, from: 'EUR', to: 'USD' } });
    await assert.rejects(call(), UnauthorizedError, 'the 403 sends the user back to the authorization server');
    const challenge = log.find(e => e.status === 403);
    assert.ok(challenge, JSON.stringify(log, null, 1));
    assert.match(challenge.www, /error="insufficient_scope"/);
    assert.match(challenge.www, /scope="[^"]*fx:convert[^"]*"/);

    const second = provider.authorizationUrls[1];
    assert.ok(second, 'a second authorization request was made');
    assert.deepEqual(second.searchParams.get('scope').split(' ').sort(), ['balance:read', 'fx:convert']);
    const again = provider.browser.visited.slice(visitedBefore);
    assert.ok(!again.some(v => v.includes(env.idpIssuer)), `the Deputy session was reused, no second upstream login:\n${again.join('\n')}`);
    assert.ok(again.some(v => v.startsWith('POST') && v.includes('/consent')), 'the user consented to the larger scope');

    await transport.finishAuth(provider.takeCode());
    assert.deepEqual(claims(provider.tokens().access_token).scope.split(' ').sort(), ['balance:read', 'fx:convert']);
    const fx = structured(await call());
    assert.equal(Number(fx.converted), 10.8);
  } finally {
    await transport.close();
  }
});
