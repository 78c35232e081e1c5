// An ES256 client key for `scripts/bench peer`: prints the private JWK (kid bench-1), which AgentBench reads to
// sign assertions; the server gets the public half.
import { generateKeyPair, exportJWK } from 'jose';
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
console.log(JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'bench-1' }));
