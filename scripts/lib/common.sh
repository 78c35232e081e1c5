# Shared by scripts/*: the repository root, a JDK >= 21, and the broker jar (built when stale).
# shellcheck shell=bash

DEPUTY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPUTY_JAR="$DEPUTY_ROOT/broker/target/deputy-broker.jar"
DEPUTY_MIN_JAVA=21

# JVM memory defaults of scripts/run (the image and the systemd unit carry the same figures; docs/deployment.md,
# "Memory"): a bounded heap with a fixed young generation and bounded native areas keep the RSS of a node under load
# well under the ~900 MiB the JVM's own sizing reaches on a large box (docs/benchmarks.md has the figures).
# DEPUTY_JAVA_MEMORY replaces them; DEPUTY_JAVA_OPTS comes after them (a later -Xmx wins).
DEPUTY_JVM_MEMORY_DEFAULTS="-XX:+UseSerialGC -Xms96m -Xmx192m -Xmn64m -XX:MetaspaceSize=128m -XX:MaxMetaspaceSize=256m -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=64m -Xss512k -XX:TrimNativeHeapInterval=5000 -XX:+ExitOnOutOfMemoryError"

# The machine's CPU time so far, from /proc/stat: "<steal ticks> <all ticks>". Steal is time the hypervisor gave
# this virtual machine's CPUs to others; the benches print its share of a measured phase (deputy_steal_since). A host
# can also slow a run without any steal (the same build measured a third slower within one session, with the CPU per
# request up by as much: docs/benchmarks.md, session 12) — compare the CPU per request too.
deputy_cpu_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t}' /proc/stat; }
deputy_steal_since() { # $1 $2 = deputy_cpu_ticks at the phase's start; prints e.g. "0.4%"
  local s1 t1
  read -r s1 t1 < <(deputy_cpu_ticks)
  awk -v s=$((s1 - $1)) -v t=$((t1 - $2)) 'BEGIN {printf "%.1f%%", (t > 0 ? 100 * s / t : 0)}'
}

deputy_say() { printf 'deputy: %s\n' "$*" >&2; }
deputy_die() { deputy_say "$*"; exit 1; }

# Major version of the JDK at $1 (a JAVA_HOME), or 0.
deputy_java_major() {
  local v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || { echo 0; return; }
  v="$("$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+)(\.[0-9]+)*.*".*/\1/p')"
  [ "$v" = "1" ] && v=8
  echo "${v:-0}"
}

# Prints a JAVA_HOME with a JDK >= 21: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
deputy_find_jdk() {
  local best="" best_v=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v="$(deputy_java_major "$JAVA_HOME")"
    if [ "$v" -ge "$DEPUTY_MIN_JAVA" ]; then echo "$JAVA_HOME"; return 0; fi
    deputy_say "JAVA_HOME=$JAVA_HOME is not a JDK $DEPUTY_MIN_JAVA+ (found ${v}); looking under /usr/lib/jvm"
  fi
  for d in /usr/lib/jvm/*/; do
    d="${d%/}"
    [ -L "$d" ] && continue
    v="$(deputy_java_major "$d")"
    if [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  if [ "$best_v" -ge "$DEPUTY_MIN_JAVA" ]; then echo "$best"; return 0; fi
  deputy_say "no JDK $DEPUTY_MIN_JAVA or newer found (JAVA_HOME=${JAVA_HOME:-unset}; newest under /usr/lib/jvm: ${best:-none} ${best_v})."
  deputy_say "install one (e.g. Temurin 25 or openjdk-21-jdk) and/or set JAVA_HOME to it."
  return 1
}

deputy_use_jdk() {
  JAVA_HOME="$(deputy_find_jdk)" || exit 1
  export JAVA_HOME
  export PATH="$JAVA_HOME/bin:$PATH"
}

# True when the jar is missing or older than any source or build file.
deputy_jar_stale() {
  [ -f "$DEPUTY_JAR" ] || return 0
  local newer
  newer="$(find "$DEPUTY_ROOT/pom.xml" "$DEPUTY_ROOT"/*/pom.xml "$DEPUTY_ROOT/broker/src/main" \
      "$DEPUTY_ROOT/connectors/src/main" "$DEPUTY_ROOT/audit-verify/src/main" "$DEPUTY_ROOT/policy-engine/src/main" -newer "$DEPUTY_JAR" -print -quit 2>/dev/null || true)"
  [ -n "$newer" ]
}

# Builds broker/target/deputy-broker.jar (no tests) unless it is newer than every source.
deputy_build_jar() {
  if deputy_jar_stale; then
    command -v mvn >/dev/null || deputy_die "Maven (mvn) is needed to build the broker: apt-get install maven"
    deputy_say "building the broker jar (mvn package, no tests)..."
    (cd "$DEPUTY_ROOT" && mvn -B -q -DskipTests package) || deputy_die "the build failed"
  fi
}

# GET a URL; prints the body and succeeds only on 200. curl when present, else bash's /dev/tcp.
deputy_http_get() {
  if command -v curl >/dev/null; then
    curl -sf --max-time 5 "$1"
    return
  fi
  local hp path resp
  hp="${1#http://}"
  path="/${hp#*/}"
  [ "$path" = "/$hp" ] && path=/
  hp="${hp%%/*}"
  exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hp" >&3
  resp="$(timeout 5 cat <&3)" || true
  exec 3<&-
  case "${resp%%$'\r'*}" in
    *" 200 "*) printf '%s' "${resp#*$'\r\n\r\n'}" ;;
    *) return 1 ;;
  esac
}
