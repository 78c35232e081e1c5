# Helpers for scripts that run the whole stack on loopback (scripts/demo, e2e/mcp-sdk/run.sh): free ports,
# waiting for health, the jars, and the upstream IdP (the standalone mock-oauth2-server from Maven Central).
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEPUTY_BANKING_JAR="$DEPUTY_ROOT/examples/banking-mcp/target/banking-mcp-0.1.0-SNAPSHOT.jar"
DEPUTY_MOCK_IDP_VERSION=6.0.2
DEPUTY_MOCK_IDP_MAIN=no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt

# A free TCP port on 127.0.0.1 (the kernel's choice; there is a small race until the caller binds it).
deputy_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# deputy_wait_url URL SECONDS [PID [LOG]]: waits until URL answers 200; fails early when PID died (and shows LOG).
deputy_wait_url() {
  local url="$1" secs="$2" pid="${3:-}" log="${4:-}" i
  for ((i = 0; i < secs * 5; i++)); do
    if curl -sf -o /dev/null --max-time 2 "$url"; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      deputy_say "process $pid exited before $url answered"
      [ -n "$log" ] && [ -f "$log" ] && tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  deputy_say "$url did not answer within ${secs}s"
  [ -n "$log" ] && [ -f "$log" ] && tail -n 30 "$log" >&2
  return 1
}

# deputy_wait_log LOG TEXT SECONDS PID: waits until LOG contains TEXT while PID lives (e.g. the broker's "listening"
# line: a health check alone could be answered by another process that took the port first).
deputy_wait_log() {
  local log="$1" text="$2" secs="$3" pid="$4" i
  for ((i = 0; i < secs * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then deputy_say "process $pid exited"; tail -n 30 "$log" >&2; return 1; fi
    if grep -qF "$text" "$log" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  deputy_say "no '$text' in $log within ${secs}s"; tail -n 30 "$log" >&2
  return 1
}

# Builds the broker and banking-mcp jars when one is missing (offline first, then with the network).
deputy_build_jars() {
  if [ -f "$DEPUTY_JAR" ] && [ -f "$DEPUTY_BANKING_JAR" ]; then return 0; fi
  command -v mvn >/dev/null || deputy_die "Maven (mvn) is needed to build the jars"
  deputy_say "building the broker and banking-mcp jars (mvn package, no tests)..."
  (cd "$DEPUTY_ROOT" && { mvn -B -q -o -DskipTests package || mvn -B -q -DskipTests package; }) \
    || deputy_die "the build failed"
}

# Prints the classpath of the standalone mock-oauth2-server, resolved once through Maven into target/.
deputy_mock_idp_classpath() {
  local out="$DEPUTY_ROOT/target/mock-idp-$DEPUTY_MOCK_IDP_VERSION.classpath" pom="$DEPUTY_ROOT/scripts/lib/mock-idp.pom.xml"
  if [ ! -s "$out" ]; then
    mkdir -p "$DEPUTY_ROOT/target"
    deputy_say "resolving mock-oauth2-server $DEPUTY_MOCK_IDP_VERSION (Maven Central)..."
    mvn -B -q -o -f "$pom" dependency:build-classpath -Dmdep.outputFile="$out" >/dev/null 2>&1 \
      || mvn -B -q -f "$pom" dependency:build-classpath -Dmdep.outputFile="$out" >&2 \
      || deputy_die "cannot resolve mock-oauth2-server"
  fi
  cat "$out"
}

# deputy_mock_idp_json SUB EMAIL NAME GROUP...: a JSON_CONFIG for a non-interactive mock IdP whose issuer
# "default" signs everyone in as SUB (email, name, groups claims in the ID token).
deputy_mock_idp_json() {
  local sub="$1" email="$2" name="$3"; shift 3
  python3 - "$sub" "$email" "$name" "$@" <<'PY'
import json, sys
sub, email, name, groups = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
print(json.dumps({"interactiveLogin": False, "tokenCallbacks": [{"issuerId": "default", "tokenExpiry": 3600,
    "requestMappings": [{"requestParam": "grant_type", "match": "*", "claims": {
        "sub": sub, "email": email, "email_verified": True, "name": name, "groups": groups}}]}]}))
PY
}

# deputy_start_mock_idp PORT JSON_CONFIG LOG: starts mock-oauth2-server on 127.0.0.1:PORT in the background,
# sets DEPUTY_MOCK_IDP_PID, waits for its discovery document (issuer http://127.0.0.1:PORT/default).
deputy_start_mock_idp() {
  local port="$1" json="$2" log="$3" cp
  cp="$(deputy_mock_idp_classpath)"
  SERVER_HOSTNAME=127.0.0.1 SERVER_PORT="$port" JSON_CONFIG="$json" \
    "$JAVA_HOME/bin/java" -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$cp" "$DEPUTY_MOCK_IDP_MAIN" >"$log" 2>&1 &
  DEPUTY_MOCK_IDP_PID=$!
  deputy_wait_url "http://127.0.0.1:$port/default/.well-known/openid-configuration" 60 "$DEPUTY_MOCK_IDP_PID" "$log"
}

# deputy_stop PID...: TERM, then KILL after 30 s (a broker recording its start-up cache needs some seconds), for the processes this script started.
deputy_stop() {
  local p i
  for p in "$@"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    [ -n "$p" ] || continue
    for ((i = 0; i < 150; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
  done
}
