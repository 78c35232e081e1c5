// node-oidc-provider configured for the workload of `scripts/bench peer`: one client authenticating with
// private_key_jwt (ES256, the public key given in PEER_CLIENT_JWK), client_credentials only, ES256-signed JWT
// access tokens (RFC 9068 shape) for one resource, the assertion jti checked for replay. Its adapter is the
// built-in in-memory one and it writes no audit trail: there is nothing durable on its side of the comparison.
// Usage: PEER_PORT=… PEER_CLIENT_JWK='{"kty":"EC",…}' node server.mjs
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';

const port = Number(process.env.PEER_PORT || 3000);
const issuer = `http://127.0.0.1:${port}`;
const resource = process.env.PEER_RESOURCE || 'https://files.bench.example/mcp';
const clientJwk = JSON.parse(process.env.PEER_CLIENT_JWK);
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: 'peer-1', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [signing] },
  clients: [{
    client_id: process.env.PEER_CLIENT_ID || 'bench-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    id_token_signed_response_alg: 'ES256',
    jwks: { keys: [clientJwk] },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'files:read files:list',
  }],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'files:read files:list',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  clientAuthSigningAlgValues: ['ES256'],
  ttl: { ClientCredentials: 300 },
  scopes: ['files:read', 'files:list'],
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
