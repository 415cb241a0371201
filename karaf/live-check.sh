#!/usr/bin/env bash
# Live check of the Karaf deployment (issue #11, README "Running in Apache Karaf"): builds the bundle and its features
# file, unpacks Apache Karaf 4.4.10 under karaf/target/, points it at the rebuilt Camel Karaf 4.18.1
# bundles of ../shared/karaf-repo and at Maven Central, starts it headless, installs the feature and
# asserts that
#   - every route id of the bundle is Started (camel:route-list through bin/client), and
#   - a message POSTed to the bundle's REST endpoint goes through handle-message and is stored by
#     persist-message in this machine's PostgreSQL (schema ar_karaf), with its thread history and its
#     idempotency key in Redis (prefix ar-karaf:); the same id sent again is recognised as a duplicate
#     and neither stored nor added to the history a second time.
# Karaf is stopped at the end whatever happens (its PID is kept), its schema and Redis keys are
# removed, and on failure the tail of Karaf's log is printed. Bounded: KARAF_CHECK_TIMEOUT seconds
# (default 360) for Karaf start + feature install + checks, after the build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KARAF_VERSION=4.4.10
WORK=$ROOT/karaf/target/live
KARAF_HOME=$WORK/apache-karaf-$KARAF_VERSION
# beside the checkout (../shared), else where this machine keeps it (/work/shared), for a clone made elsewhere
KARAF_REPO=${CAMEL_KARAF_REPO:-$ROOT/../shared/karaf-repo}
if [ -z "${CAMEL_KARAF_REPO:-}" ] && [ ! -d "$KARAF_REPO" ] && [ -d /work/shared/karaf-repo ]; then
  KARAF_REPO=/work/shared/karaf-repo
fi
TIMEOUT=${KARAF_CHECK_TIMEOUT:-360}
SCHEMA=ar_karaf
PREFIX=ar-karaf:
PGCMD=(psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt)

log() { echo "[karaf-check $(date +%H:%M:%S)] $*"; }
fail() { echo "[karaf-check] FAILED: $*" >&2; exit 1; }

# Maven on the build's JDK (25 where present, as .ci/run does); Karaf 4.4 on a JDK 17.
MAVEN_JAVA_HOME=${JAVA_HOME:-}
[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ] && MAVEN_JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
KARAF_JAVA_HOME=${KARAF_JAVA_HOME:-}
if [ -z "$KARAF_JAVA_HOME" ]; then
  for jdk in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-17-jdk-amd64 /usr/lib/jvm/*17*; do
    if [ -x "$jdk/bin/java" ]; then KARAF_JAVA_HOME=$jdk; break; fi
  done
fi
[ -n "$KARAF_JAVA_HOME" ] || fail "no JDK 17 under /usr/lib/jvm for Karaf $KARAF_VERSION (set KARAF_JAVA_HOME)"
[ -f "$KARAF_REPO/org/apache/camel/karaf/apache-camel/4.18.1/apache-camel-4.18.1-features.xml" ] \
  || fail "the Camel Karaf bundles are not at $KARAF_REPO (set CAMEL_KARAF_REPO)"
for tool in psql redis-cli curl; do command -v $tool >/dev/null || fail "$tool is needed"; done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port=$1
  while port_open "$port"; do port=$((port + 1)); done
  echo "$port"
}

# ---- build: the bundle, features.xml and cfg files into the local Maven repository, and Karaf ----
log "building the bundle (mvn -f karaf/pom.xml install)"
JAVA_HOME=$MAVEN_JAVA_HOME mvn -B -ntp -q -f "$ROOT/karaf/pom.xml" -Dcamel-karaf.repo="$KARAF_REPO" install
rm -rf "$WORK"
mkdir -p "$WORK"
JAVA_HOME=$MAVEN_JAVA_HOME mvn -B -ntp -q dependency:copy \
  -Dartifact=org.apache.karaf:apache-karaf:$KARAF_VERSION:tar.gz -DoutputDirectory="$WORK"
tar xzf "$WORK/apache-karaf-$KARAF_VERSION.tar.gz" -C "$WORK"
rm "$WORK/apache-karaf-$KARAF_VERSION.tar.gz"

START=$(date +%s)
DEADLINE=$((START + TIMEOUT))
remaining() { echo $((DEADLINE - $(date +%s))); }

# ---- configure Karaf ------------------------------------------------------------------------------
SSH_PORT=$(free_port 18101)
RMI_REGISTRY_PORT=$(free_port 11099)
RMI_SERVER_PORT=$(free_port 14444)
HTTP_PORT=$(free_port 18480)
cd "$KARAF_HOME"
sed -i 's/^#karaf = karaf,_g_:admingroup/karaf = karaf,_g_:admingroup/; s/^#_g_\\:admingroup/_g_\\:admingroup/' etc/users.properties
sed -i "s/^sshPort = .*/sshPort = $SSH_PORT/" etc/org.apache.karaf.shell.cfg
sed -i "s/^rmiRegistryPort = .*/rmiRegistryPort = $RMI_REGISTRY_PORT/; s/^rmiServerPort = .*/rmiServerPort = $RMI_SERVER_PORT/" \
  etc/org.apache.karaf.management.cfg
# the rebuilt Camel Karaf bundles beside Karaf's own system repository; remote: Maven Central only
# (the first of the shipped remote repositories; the two snapshot repositories after it are dropped)
sed -i "s|@id=child.system.repository@snapshots|@id=child.system.repository@snapshots, \\\\\n    file:$KARAF_REPO@id=camel-karaf-rebuilt|" \
  etc/org.ops4j.pax.url.mvn.cfg
sed -i '/@id=central, *\\$/s/, *\\$//; /@id=apache@snapshots/d; /@id=ops4j.sonatype.snapshots.deploy/d' etc/org.ops4j.pax.url.mvn.cfg
grep -q camel-karaf-rebuilt etc/org.ops4j.pax.url.mvn.cfg || fail "could not add the Camel Karaf repository to pax-url-mvn"

# the shipped cfg files, with this check's own port, schema and Redis prefix: laid down before the
# feature is installed, so its configfiles (override=false) keep them
# (the cleanup tick every 5 s instead of every minute, so the check sees it run)
sed -e "s/^http.port = .*/http.port = $HTTP_PORT/" -e "s/^app.redis.key-prefix = .*/app.redis.key-prefix = $PREFIX/" \
  -e "s/^app.cleanup.cron = .*/app.cleanup.cron = 0\/5 * * * * ?/" \
  "$ROOT/karaf/target/feature/io.asyncroutes.cfg" > etc/io.asyncroutes.cfg
sed -e "s|^url = .*|url = jdbc:postgresql://127.0.0.1:5432/test?reWriteBatchedInserts=true\&currentSchema=$SCHEMA|" \
  "$ROOT/karaf/target/feature/org.ops4j.datasource-asyncroutes.cfg" > etc/org.ops4j.datasource-asyncroutes.cfg

# ---- this check's own PostgreSQL schema and Redis keys, clean -------------------------------------
clean_state() {
  "${PGCMD[@]}" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "$PREFIX*" | xargs -r -n 500 redis-cli -h 127.0.0.1 DEL >/dev/null 2>&1 || true
}
clean_state
"${PGCMD[@]}" -c "CREATE SCHEMA $SCHEMA" >/dev/null

# ---- start Karaf; stop it at the end whatever happens ---------------------------------------------
KARAF_PID=
OK=false
finish() {
  local rc=$?
  if [ "$OK" != true ]; then
    echo "---- tail of Karaf's log ($KARAF_HOME/data/log/karaf.log) ----" >&2
    tail -n 120 "$KARAF_HOME/data/log/karaf.log" >&2 2>/dev/null || true
    echo "---- Karaf's console output ----" >&2
    tail -n 30 "$WORK/karaf.out" >&2 2>/dev/null || true
  fi
  if [ -n "$KARAF_PID" ] && kill -0 "$KARAF_PID" 2>/dev/null; then
    log "stopping Karaf (pid $KARAF_PID)"
    kill -TERM "$KARAF_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$KARAF_PID" 2>/dev/null || break; sleep 1; done
    if kill -0 "$KARAF_PID" 2>/dev/null; then
      log "Karaf did not stop in 60 s: killing it"
      kill -KILL "$KARAF_PID" 2>/dev/null || true
    fi
    wait "$KARAF_PID" 2>/dev/null || true
  fi
  clean_state
  [ "$OK" = true ] || rc=1
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

log "starting Karaf $KARAF_VERSION on $("$KARAF_JAVA_HOME/bin/java" -version 2>&1 | head -1)"
# daemon: the script execs java, so $! is Karaf's JVM
JAVA_HOME=$KARAF_JAVA_HOME EXTRA_JAVA_OPTS="-Xmx1g" bin/karaf daemon > "$WORK/karaf.out" 2>&1 &
KARAF_PID=$!
echo "$KARAF_PID" > "$WORK/karaf.pid"

client() {
  # one command through the SSH client, at most $2 seconds (timeout 0 would mean none: at least 1);
  # -r/-d: retry the connection while Karaf comes up
  local limit=${2:-120}
  [ "$limit" -ge 1 ] || limit=1
  printf '%s\n' "$1" | JAVA_HOME=$KARAF_JAVA_HOME timeout "$limit" bin/client -a "$SSH_PORT" -u karaf -p karaf -r 3 -d 2 -b 2>&1
}

until client 'system:start-level' 20 | grep -q 'Level 100'; do
  kill -0 "$KARAF_PID" 2>/dev/null || fail "Karaf exited while starting"
  [ "$(remaining)" -gt 0 ] || fail "Karaf's shell did not answer within ${TIMEOUT}s"
  sleep 2
done
log "Karaf is up (pid $KARAF_PID, ssh $SSH_PORT) after $(( $(date +%s) - START ))s"

# ---- install the feature --------------------------------------------------------------------------
log "feature:repo-add + feature:install async-routes"
OUT=$(client "feature:repo-add mvn:io.asyncroutes/async-routes-karaf/0.1.0-SNAPSHOT/xml/features" 120) \
  || fail "feature:repo-add: $OUT"
echo "$OUT" | grep -qiE 'error|exception|cannot|unable' && fail "feature:repo-add: $OUT"
OUT=$(client "feature:install async-routes" "$(remaining)") || fail "feature:install: $OUT"
echo "$OUT" | grep -qiE 'error|exception|cannot|unable' && fail "feature:install: $OUT"
log "feature installed after $(( $(date +%s) - START ))s"

# ---- every route id of the bundle is Started ------------------------------------------------------
# the ids declared in the bundle's sources: routeId("...") of the Java route builders it compiles,
# order-by-thread (a constant) and the ids of routes/*.yaml (not api-openapi: no OpenAPI in Karaf)
JAVA_DIRS=$(cd "$ROOT/src/main/java/io/asyncroutes" && echo api chat cleanup fetch intake ordering persistence pipeline state support)
EXPECTED=$( {
  for d in $JAVA_DIRS; do grep -ho 'routeId("[^"]*")' "$ROOT/src/main/java/io/asyncroutes/$d"/*.java; done | sed 's/routeId("\(.*\)")/\1/'
  grep -ho 'ROUTE_ID = "[^"]*"' "$ROOT/src/main/java/io/asyncroutes/ordering/OrderingRoutes.java" | sed 's/.*"\(.*\)"/\1/'
  grep -h '^    id:' "$ROOT"/routes/*.yaml | sed 's/^    id: *//; s/"//g'
} | sort -u)
[ "$(echo "$EXPECTED" | wc -l)" -ge 20 ] || fail "found too few route ids in the sources: $EXPECTED"

ROUTES=
while :; do
  # columns: Context | Route | Status | Total # | Failed # | Inflight # | Uptime (bars dropped)
  ROUTES=$(client 'camel:route-list async-routes' 60 | tr '|' ' ' || true)
  missing=
  for id in $EXPECTED; do
    echo "$ROUTES" | grep -qE "^[[:space:]]*async-routes[[:space:]]+$id[[:space:]]+Started\b" || missing="$missing $id"
  done
  [ -z "$missing" ] && break
  [ "$(remaining)" -gt 0 ] || { echo "$ROUTES"; fail "routes not Started within ${TIMEOUT}s:$missing"; }
  sleep 3
done
echo "$ROUTES"
NOT_STARTED=$(echo "$ROUTES" | grep -E '^[[:space:]]*async-routes[[:space:]]' | grep -vE '[[:space:]]Started\b' || true)
[ -z "$NOT_STARTED" ] || fail "routes of the bundle not Started: $NOT_STARTED"
log "all $(echo "$EXPECTED" | wc -l) route ids of the bundle are Started"

# ---- a message end to end: REST -> handle-message -> persist-message (PostgreSQL), Redis state -----
THREAD=karaf-check-$$
ID=karaf-check-msg-$$-$(date +%s)
BODY="{\"id\":\"$ID\",\"threadId\":\"$THREAD\",\"seq\":1,\"content\":\"hello from the Karaf live check\"}"
API=http://127.0.0.1:$HTTP_PORT/api/messages
RESPONSE=$(curl -sS -m 20 -w ' HTTP %{http_code}' -H 'Content-Type: application/json' -d "$BODY" "$API") \
  || fail "POST $API: $RESPONSE"
log "POST /api/messages -> $RESPONSE"
echo "$RESPONSE" | grep -q "\"id\":\"$ID\"}* HTTP 202" || fail "expected 202 with the id, got: $RESPONSE"

STATUS=
while :; do
  STATUS=$("${PGCMD[@]}" -c "SELECT status FROM $SCHEMA.ar_message WHERE id = '$ID'" || true)
  [ -n "$STATUS" ] && break
  [ "$(remaining)" -gt 0 ] || fail "message $ID not stored in $SCHEMA.ar_message within ${TIMEOUT}s"
  sleep 1
done
[ "$STATUS" = processed ] || fail "stored with status '$STATUS', expected processed"
ROW=$("${PGCMD[@]}" -c "SELECT thread_id || ' seq=' || seq || ' ' || status FROM $SCHEMA.ar_message WHERE id = '$ID'")
log "PostgreSQL $SCHEMA.ar_message: $ID -> $ROW"

REDIS=(redis-cli -h 127.0.0.1)
HISTORY_KEY="${PREFIX}history:$THREAD"
IDEM_KEY="${PREFIX}idem:$ID"
[ "$("${REDIS[@]}" EXISTS "$HISTORY_KEY")" = 1 ] || fail "Redis key $HISTORY_KEY missing"
"${REDIS[@]}" LRANGE "$HISTORY_KEY" 0 -1 | grep -q 'hello from the Karaf live check' || fail "$HISTORY_KEY lacks the message"
[ "$("${REDIS[@]}" EXISTS "$IDEM_KEY")" = 1 ] || fail "Redis idempotency key $IDEM_KEY missing"
IDEM_TTL=$("${REDIS[@]}" TTL "$IDEM_KEY")
[ "$IDEM_TTL" -gt 0 ] || fail "$IDEM_KEY has no expiry (TTL $IDEM_TTL)"
log "Redis: $HISTORY_KEY ($("${REDIS[@]}" LLEN "$HISTORY_KEY") turn), $IDEM_KEY (TTL ${IDEM_TTL}s), ${PREFIX}seq:$THREAD=$("${REDIS[@]}" GET "${PREFIX}seq:$THREAD")"

GOT=$(curl -sS -m 20 "$API/$ID") || fail "GET $API/$ID"
echo "$GOT" | grep -q '"status":"processed"' || fail "GET $API/$ID: $GOT"

# the same id again: a duplicate (Redis idempotency), not stored or appended to the history again
DUP_BODY="{\"id\":\"$ID\",\"threadId\":\"$THREAD\",\"content\":\"hello from the Karaf live check\"}"
RESPONSE=$(curl -sS -m 20 -w ' HTTP %{http_code}' -H 'Content-Type: application/json' -d "$DUP_BODY" "$API")
echo "$RESPONSE" | grep -q ' HTTP 202' || fail "duplicate POST: $RESPONSE"
until grep -q "Duplicate message $ID of thread $THREAD" data/log/karaf.log; do
  [ "$(remaining)" -gt 0 ] || fail "the duplicate of $ID was not recognised within ${TIMEOUT}s"
  sleep 1
done
[ "$("${PGCMD[@]}" -c "SELECT count(*) FROM $SCHEMA.ar_message WHERE id = '$ID'")" = 1 ] || fail "duplicate stored twice"
[ "$("${REDIS[@]}" LLEN "$HISTORY_KEY")" = 1 ] || fail "duplicate appended to $HISTORY_KEY"
log "duplicate of $ID recognised: one row, one history turn"

# ---- the cleanup tick (Quartz) runs on its cron and does not fail -----------------------------------
until client 'camel:route-list async-routes' 60 | tr '|' ' ' | grep -qE '^[[:space:]]*async-routes[[:space:]]+cleanup-expired[[:space:]]+Started[[:space:]]+[1-9][0-9]*[[:space:]]+0[[:space:]]'; do
  [ "$(remaining)" -gt 0 ] || fail "cleanup-expired did not complete a tick without failure within ${TIMEOUT}s"
  sleep 2
done
log "cleanup-expired ticked (Quartz) without failure"

# ---- a settings change restarts the routes: with an API key set, /api needs X-API-Key ------------
client "config:property-set -p io.asyncroutes app.security.api-key karaf-check-key" 60 >/dev/null
CODE=
while :; do
  CODE=$(curl -s -o /dev/null -m 10 -w '%{http_code}' "$API/$ID" || true)
  [ "$CODE" = 401 ] && break
  [ "$(remaining)" -gt 0 ] || fail "GET without X-API-Key answered $CODE after the key was set, expected 401"
  sleep 1
done
GOT=$(curl -sS -m 20 -w ' HTTP %{http_code}' -H 'X-API-Key: karaf-check-key' "$API/$ID")
echo "$GOT" | grep -q '"status":"processed".* HTTP 200' || fail "GET with the API key: $GOT"
log "app.security.api-key applied on the fly: 401 without X-API-Key, 200 with it"

OK=true
log "PASSED in $(( $(date +%s) - START ))s (after the build)"
