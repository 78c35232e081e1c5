// node lib/keygen.mjs PRIVATE_JWK_FILE: makes an ES256 key pair for an agent's private_key_jwt; writes the private
// JWK (0600) and prints the public JWK Set as one line of JSON (valid YAML flow style for the agent file).
import fs from 'node:fs';
import { generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';

const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
const pub = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(pub);
const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
fs.writeFileSync(process.argv[2], JSON.stringify(priv), { mode: 0o600 });
console.log(JSON.stringify({ keys: [{ ...pub, kid, alg: 'ES256', use: 'sig' }] }));
