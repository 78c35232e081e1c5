// An agent (no user) with the SDK's PrivateKeyJwtProvider: client_credentials + private_key_jwt (RFC 7523) at
// Deputy's token endpoint, then a tool call on the banking server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { env, recordingFetch, claims, structured } from '../lib/harness.mjs';

test('SDK PrivateKeyJwtProvider: agent client_credentials with private_key_jwt, then tools', async () => {
  const log = [];
  const provider = new PrivateKeyJwtProvider({
    clientId: env.agentId,
    privateKey: env.agentJwk,
    algorithm: 'ES256',
    scope: 'balance:read fx:convert',
    expectedIssuer: env.issuer,
  });
  const transport = new StreamableHTTPClientTransport(new URL(env.bankUrl), { authProvider: provider, fetch: recordingFetch(log) });
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  await client.connect(transport); // 401 -> discovery -> token (no redirect: a non-interactive flow)
  try {
    assert.equal(log[0].status, 401);
    const token = log.find(e => e.url === `${env.issuer}/token`);
    assert.equal(token?.status, 200, JSON.stringify(log, null, 1));
    assert.ok(!log.some(e => e.url.endsWith('/register')), 'an agent does not register by DCR');

    const at = claims(provider.tokens().access_token);
    assert.equal(at.sub, env.agentId, 'an agent acting alone is the subject');
    assert.equal(at.client_id, env.agentId);
    assert.equal(at.act, undefined);
    assert.deepEqual([].concat(at.aud), [env.bankUrl]);
    assert.deepEqual(at.scope.split(' ').sort(), ['balance:read', 'fx:convert']);

    const fx = structured(await client.callTool({ name: 'convert_currency', arguments: { amount: 200, from: 'EUR', to: 'USD' } }));
    assert.equal(Number(fx.converted), 216);
    const balance = structured(await client.callTool({ name: 'get_balance', arguments: {} }));
    assert.equal(balance.sub, env.agentId);
  } finally {
    await transport.close();
  }
});

test('a wrong key is refused (invalid_client), the SDK surfaces the error', async () => {
  const { generateKeyPair, exportJWK } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const provider = new PrivateKeyJwtProvider({
    clientId: env.agentId, privateKey: await exportJWK(privateKey), algorithm: 'ES256', expectedIssuer: env.issuer,
  });
  const client = new Client({ name: 'e2e-intruder', version: '1.0.0' });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(env.bankUrl), { authProvider: provider })),
    // RFC 6749 §5.2: Deputy says that client authentication failed, never why (the reason is in its audit entry)
    e => e.name === 'InvalidClientError' && /client authentication failed/.test(e.message) || assert.fail(`${e.name}: ${e.message}`));
});
