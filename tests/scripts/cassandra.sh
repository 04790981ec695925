#!/usr/bin/env bash
# Run a throw-away Apache Cassandra 5.0 on loopback for the esmond-rs integration tests.
#
# There is no Cassandra package, tarball or Docker image to be had on our machines, only
# Maven Central, so the server is assembled from its Maven jars plus config files written
# here, and started with a plain `java -cp ... CassandraDaemon`.
#
#   cassandra.sh fetch                 resolve the jars with mvn into the cache (no-op when cached)
#   cassandra.sh init N                fresh run dir for N nodes (1, or 3 = 127.0.0.1-3)
#   cassandra.sh start I               start node I in the background
#   cassandra.sh wait I [TIMEOUT]      block until node I answers a CQL query (default 180 s)
#   cassandra.sh ready I               one CQL probe of node I; prints release_version
#   cassandra.sh stop I                SIGTERM (drain), SIGKILL after ESMOND_CASSANDRA_STOP_TIMEOUT
#   cassandra.sh kill I                SIGKILL, for failover tests
#   cassandra.sh nodetool I ARGS...    nodetool against node I over JMX
#   cassandra.sh status                which nodes of the run dir are running
#   cassandra.sh log I [LINES]         tail node I's system.log
#   cassandra.sh paths                 print the directories in use
#   cassandra.sh wipe                  kill every node, delete the run dir
#
# Environment:
#   ESMOND_CASSANDRA_CACHE    jar cache, outside the repo    (~/.cache/esmond-rs/cassandra)
#   ESMOND_CASSANDRA_RUN_DIR  node data/config/logs          (<repo>/target/cassandra-run)
#   ESMOND_CASSANDRA_VERSION  overrides cassandra.version from cassandra-pom.xml
#   ESMOND_CASSANDRA_HEAP     per-node heap                  (1g for 1 node, 768m for more)
#   ESMOND_CASSANDRA_JAVA     java 11/17 binary              (Debian's OpenJDK 17)
#   ESMOND_CASSANDRA_STOP_TIMEOUT  seconds before stop escalates to SIGKILL (60)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
POM="$SCRIPT_DIR/cassandra-pom.xml"

# Cassandra 5.0 installs a SecurityManager at boot: JDK 24+ refuses that outright, so the
# newer JDK that may be first on PATH must never be picked up by accident.
JAVA=${ESMOND_CASSANDRA_JAVA:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
CACHE_DIR=$(realpath -m "${ESMOND_CASSANDRA_CACHE:-$HOME/.cache/esmond-rs/cassandra}")
# Absolute, because the paths end up inside cassandra.yaml and the JVM command line.
RUN_DIR=$(realpath -m "${ESMOND_CASSANDRA_RUN_DIR:-$REPO_DIR/target/cassandra-run}")
STOP_TIMEOUT=${ESMOND_CASSANDRA_STOP_TIMEOUT:-60}
MAX_NODES=3

pom_version() { sed -n 's:.*<cassandra\.version>\(.*\)</cassandra\.version>.*:\1:p' "$POM" | head -n1; }
VERSION=${ESMOND_CASSANDRA_VERSION:-$(pom_version)}
# One cache entry per version, so switching versions never mixes jar sets.
JAR_DIR="$CACHE_DIR/$VERSION"
LIB_DIR="$JAR_DIR/lib"

die()  { echo "cassandra.sh: $*" >&2; exit 1; }
note() { echo "cassandra.sh: $*" >&2; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
secs_since() { local d=$(( $(now_ms) - $1 )); printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100)); }

node_ip()   { echo "127.0.0.$1"; }
# JMX always binds the loopback address 127.0.0.1, whatever the node's IP, so every node
# needs its own port there; CQL and gossip ports stay equal across nodes (the driver
# assumes peers share the contact point's native port).
node_jmx()  { echo $((7199 + ($1 - 1) * 100)); }
node_dir()  { echo "$RUN_DIR/node$1"; }
# Tokens evenly spread over the Murmur3 ring, precomputed so that nodes never have to
# negotiate token allocation at first boot (as ccm does).
node_token() {
  local -a one=(-9223372036854775808)
  local -a three=(-9223372036854775808 -3074457345618258603 3074457345618258602)
  if (( $2 == 1 )); then echo "${one[0]}"; else echo "${three[$1 - 1]}"; fi
}

check_index() {
  [[ ${1:-} =~ ^[1-9][0-9]*$ ]] && (( $1 <= MAX_NODES )) || die "node index must be 1..$MAX_NODES, got '${1:-}'"
}

check_java() {
  [[ -x $JAVA ]] || die "no java at $JAVA (apt-get install openjdk-17-jdk-headless, or set ESMOND_CASSANDRA_JAVA)"
  local v; v=$("$JAVA" -version 2>&1 | head -n1)
  [[ $v =~ \"(11|17)[.\"] ]] || die "Cassandra 5.0 needs Java 11 or 17; $JAVA is: $v"
}

jars_ready() { [[ -f $JAR_DIR/complete ]] && compgen -G "$LIB_DIR/cassandra-all-*.jar" >/dev/null; }

# --- fetch ---------------------------------------------------------------------------------

cmd_fetch() {
  [[ -n $VERSION ]] || die "cannot read cassandra.version from $POM"
  # The marker is only written after a complete copy, and the pom is compared too, so an
  # interrupted download or an edited pom triggers a fresh resolution instead of a
  # half-populated lib/ being reused.
  if jars_ready && cmp -s "$POM" "$JAR_DIR/pom.xml"; then
    note "Cassandra $VERSION jars already in $LIB_DIR ($(ls "$LIB_DIR" | wc -l) jars)"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  mkdir -p "$JAR_DIR"
  rm -f "$JAR_DIR/complete"
  # Maven runs on a copy of the pom inside the cache so that it never writes into the repo.
  cp "$POM" "$JAR_DIR/pom.xml"
  local tmp="$JAR_DIR/lib.partial" log="$JAR_DIR/mvn.log" t0; t0=$(now_ms)
  rm -rf "$tmp"
  note "resolving org.apache.cassandra:cassandra-all:$VERSION with Maven (log: $log)"
  # The plugin is named in full: a bare `dependency:` prefix makes Maven look the prefix
  # up and fetch extra metadata and plugin versions that a partial mirror may not serve.
  # ~/.m2 stays the local repository, so other Maven work shares the downloads.
  if ! JAVA_HOME=$(dirname "$(dirname "$(realpath "$JAVA")")") \
       mvn -B -ntp -f "$JAR_DIR/pom.xml" -Dcassandra.version="$VERSION" \
           org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
           -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
    grep -E '^\[(ERROR|WARNING)\]' "$log" | head -n 40 >&2 || tail -n 40 "$log" >&2
    die "Maven could not resolve Cassandra $VERSION (full log: $log)"
  fi
  compgen -G "$tmp/cassandra-all-*.jar" >/dev/null || die "Maven finished but no cassandra-all jar in $tmp"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  touch "$JAR_DIR/complete"
  note "fetched $(ls "$LIB_DIR" | wc -l) jars ($(du -sh "$LIB_DIR" | cut -f1)) in $(secs_since "$t0") s into $LIB_DIR"
}

# --- init ----------------------------------------------------------------------------------

write_shared_conf() {
  local conf="$RUN_DIR/conf"
  # An empty triggers dir on the classpath only silences a startup warning.
  mkdir -p "$conf/triggers"

  # The cassandra-all jar ships no logback.xml; without one, logback logs DEBUG to stdout.
  # Full INFO log to a file for post-mortems, only WARN+ on the console.
  cat >"$conf/logback.xml" <<'XML'
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${cassandra.logdir}/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>WARN</level></filter>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="FILE"/>
    <appender-ref ref="CONSOLE"/>
  </root>
</configuration>
XML
  cat >"$conf/logback-tools.xml" <<'XML'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%-5level %date{"HH:mm:ss,SSS"} %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
XML

  # Cassandra reaches into JDK internals (Unsafe, NIO buffers, JMX, jamm, javac for UDFs),
  # and on Java 17 each of those packages has to be opened explicitly, or the classes fail
  # to initialise with IllegalAccessException. nodetool loads the same classes, so server
  # and nodetool share this list (a java @argfile; '#' lines are comments).
  cat >"$conf/jvm17-modules.args" <<'ARGS'
-Djdk.attach.allowAttachSelf=true
--add-exports java.base/jdk.internal.misc=ALL-UNNAMED
--add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
--add-exports java.management/com.sun.jmx.remote.security=ALL-UNNAMED
--add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
--add-exports java.sql/java.sql=ALL-UNNAMED
--add-exports java.base/java.lang.ref=ALL-UNNAMED
--add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
--add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
--add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
--add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
--add-opens java.base/java.lang.module=ALL-UNNAMED
--add-opens java.base/jdk.internal.loader=ALL-UNNAMED
--add-opens java.base/jdk.internal.ref=ALL-UNNAMED
--add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
--add-opens java.base/jdk.internal.math=ALL-UNNAMED
--add-opens java.base/jdk.internal.module=ALL-UNNAMED
--add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
--add-opens java.base/sun.nio.ch=ALL-UNNAMED
--add-opens java.base/java.io=ALL-UNNAMED
--add-opens java.base/java.lang.reflect=ALL-UNNAMED
--add-opens java.base/java.lang=ALL-UNNAMED
--add-opens java.base/java.util=ALL-UNNAMED
--add-opens java.base/java.nio=ALL-UNNAMED
ARGS

  # JVM flags as a java @argfile. They are what bin/cassandra would pass on Java 17
  # (conf/jvm-server.options + conf/jvm17-server.options + cassandra.in.sh/cassandra-env.sh
  # of the 5.0 branch), trimmed for small, short-lived test nodes.
  cat >"$conf/jvm17-server.args" <<'ARGS'
# Server defaults from jvm-server.options. Dropped: AlwaysPreTouch (would commit the
# whole heap up front), UseNUMA, and HeapDumpOnOutOfMemoryError (a dump per test OOM
# would fill the disk; ExitOnOutOfMemoryError below is enough to notice).
-ea
-da:net.openhft...
-XX:+UseThreadPriorities
-Xss256k
-XX:+UseTLAB
-XX:+ResizeTLAB
-XX:+PerfDisableSharedMem
-Djava.net.preferIPv4Stack=true
-Dchronicle.analytics.disable=true
-XX:+ExitOnOutOfMemoryError
# G1 settings from jvm17-server.options, without G1HeapRegionSize=16m, which is meant
# for multi-GB heaps.
-XX:+UseG1GC
-XX:+ParallelRefProcEnabled
-XX:MaxTenuringThreshold=1
-XX:G1RSetUpdatingPauseTimePercent=5
-XX:MaxGCPauseMillis=300
-XX:InitiatingHeapOccupancyPercent=70
-Dio.netty.tryReflectionSetAccessible=true
-Dio.netty.allocator.useCacheForAllThreads=true
-Dio.netty.allocator.maxOrder=11
# Test-only shortcuts. Gossip settling and the 30 s ring delay only matter for real
# clusters; fsync and the flush of system tables after every schema change only cost
# time, and a test node's data is disposable (a SIGKILLed node still keeps its writes:
# the commitlog is mmapped and survives in the page cache).
-Dcassandra.skip_wait_for_gossip_to_settle=0
-Dcassandra.ring_delay_ms=5000
-Dcassandra.skip_sync=true
-Dcassandra.unsafesystem=true
ARGS
}

write_node_conf() {
  local i=$1 n=$2 d; d=$(node_dir "$i")
  mkdir -p "$d"/{conf,data,commitlog,saved_caches,hints,logs,tmp}
  # Literal IPs only: "localhost" is whatever /etc/hosts says. node1 is the only seed so
  # that nodes 2 and 3 (started after it) join it at once, and node1 never waits for them.
  # Every key below exists in 5.0's Config.java; unknown keys abort startup.
  cat >"$d/conf/cassandra.yaml" <<YAML
cluster_name: esmond-rs-test
num_tokens: 1
initial_token: "$(node_token "$i" "$n")"
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
auto_bootstrap: false
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:7000"
listen_address: $(node_ip "$i")
rpc_address: $(node_ip "$i")
storage_port: 7000
native_transport_port: 9042
start_native_transport: true
data_file_directories:
  - $d/data
commitlog_directory: $d/commitlog
saved_caches_directory: $d/saved_caches
hints_directory: $d/hints
commitlog_sync: periodic
commitlog_sync_period: 10000ms
# 'auto'/'direct' abort startup on some Debian kernels and on filesystems without O_DIRECT.
commitlog_disk_access_mode: legacy
# A fresh 5.0-only cluster; the default would keep 4.x-compatible sstable/messaging formats.
storage_compatibility_mode: NONE
# Tests DROP and TRUNCATE a lot; a snapshot for each would only eat disk.
auto_snapshot: false
# Two cores shared with cargo and up to two other nodes.
concurrent_compactors: 1
YAML
}

cmd_init() {
  local n=${1:-1} i
  [[ $n =~ ^[0-9]+$ ]] && { (( n == 1 )) || (( n == 3 )); } || die "init takes 1 or 3 nodes, got '$n'"
  # init means "a fresh cluster": reusing node data from a different layout would clash
  # on tokens or host IDs, so old node state is removed, which is only safe when stopped.
  for i in $(seq "$MAX_NODES"); do
    [[ -z $(node_pid "$i") ]] || die "node$i is running; stop it (or wipe) before init"
  done
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"
  write_shared_conf
  for i in $(seq "$n"); do write_node_conf "$i" "$n"; done
  echo "$n" >"$RUN_DIR/nodes"
  note "initialised $n node(s) in $RUN_DIR"
}

# --- process control -----------------------------------------------------------------------

# The pid of node I if it is alive AND is really our JVM for that node: after a reboot or a
# long pause a stale pid file may point at an unrelated process, which we must not signal.
node_pid() {
  local d pid; d=$(node_dir "$1")
  pid=$(cat "$d/cassandra.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$d/conf/cassandra.yaml"; then
    echo "$pid"
  fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

cmd_start() {
  local i=$1 d pid heap jamm n; d=$(node_dir "$i")
  check_java
  jars_ready || die "no Cassandra $VERSION jars in $LIB_DIR; run: $SELF fetch"
  [[ -f $d/conf/cassandra.yaml ]] || die "node$i is not initialised in $RUN_DIR; run: $SELF init N"
  [[ -z $(node_pid "$i") ]] || die "node$i is already running (pid $(node_pid "$i"))"
  # A leftover node from another run dir would otherwise make this one die on bind
  # while `wait` happily talks to the old one.
  local port
  for port in 9042 7000; do
    ! port_open "$(node_ip "$i")" "$port" || die "$(node_ip "$i"):$port is already in use (another Cassandra?)"
  done
  ! port_open 127.0.0.1 "$(node_jmx "$i")" || die "JMX port 127.0.0.1:$(node_jmx "$i") is already in use"

  n=$(cat "$RUN_DIR/nodes" 2>/dev/null || echo 1)
  # Left alone, Cassandra sizes the heap to a quarter of RAM (6 GB here); three of those
  # next to cargo on 24 GiB would swap. The memtable/cache sizes all derive from -Xmx.
  if (( n == 1 )); then heap=${ESMOND_CASSANDRA_HEAP:-1g}; else heap=${ESMOND_CASSANDRA_HEAP:-768m}; fi
  jamm=$(compgen -G "$LIB_DIR/jamm-*.jar" | head -n1) || true

  : >"$d/logs/stdout.log"
  now_ms >"$d/started_at"
  # -Dcassandra-foreground keeps stdout/stderr open (otherwise the daemon closes them after
  # setup and fatal errors vanish). java.io.tmpdir/jna.tmpdir point at the node dir because
  # JNA, netty and the compressors unpack native libraries there, and /tmp may be noexec.
  # jamm as an agent gives exact memtable sizing; Cassandra falls back to Unsafe without it.
  nohup "$JAVA" @"$RUN_DIR/conf/jvm17-modules.args" @"$RUN_DIR/conf/jvm17-server.args" \
    -Xms"$heap" -Xmx"$heap" \
    ${jamm:+-javaagent:"$jamm"} \
    -Dcassandra.config="file://$d/conf/cassandra.yaml" \
    -Dcassandra.storagedir="$d" \
    -Dcassandra.logdir="$d/logs" \
    -Dlogback.configurationFile="$RUN_DIR/conf/logback.xml" \
    -Dcassandra-foreground=yes \
    -Dcassandra.jmx.local.port="$(node_jmx "$i")" \
    -Djava.io.tmpdir="$d/tmp" -Djna.tmpdir="$d/tmp" \
    -cp "$RUN_DIR/conf:$LIB_DIR/*" \
    org.apache.cassandra.service.CassandraDaemon \
    >>"$d/logs/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$d/cassandra.pid"
  note "node$i starting: pid $pid, $(node_ip "$i"):9042, JMX 127.0.0.1:$(node_jmx "$i"), heap $heap, logs $d/logs"
}

# Stop node I: SIGTERM runs Cassandra's shutdown hook (drain: announce shutdown over gossip
# so peers mark it DOWN at once, flush memtables), falling back to SIGKILL on a hang.
cmd_stop() {
  local i=$1 pid t0; pid=$(node_pid "$i")
  [[ -n $pid ]] || { note "node$i is not running"; rm -f "$(node_dir "$i")/cassandra.pid"; return 0; }
  t0=$(now_ms)
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(now_ms) - t0 > STOP_TIMEOUT * 1000 )); then
      note "node$i did not exit ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$(node_dir "$i")/cassandra.pid"
  note "node$i stopped in $(secs_since "$t0") s"
}

# Crash simulation: no drain, no gossip goodbye; peers only convict it via the failure
# detector, some seconds later, which is exactly what failover tests need to exercise.
cmd_kill() {
  local i=$1 pid; pid=$(node_pid "$i")
  [[ -n $pid ]] || { note "node$i is not running"; return 0; }
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$(node_dir "$i")/cassandra.pid"
  note "node$i killed (pid $pid)"
}

# --- readiness ------------------------------------------------------------------------------

# A listening socket is not proof of a usable node, so the probe speaks the CQL binary
# protocol (v4 framing, which needs no checksummed segments): STARTUP, then a real query
# against system.local. Needs only bash; no cqlsh/python on the test machine.
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

# read_frame FD -> sets FRAME_OP (hex opcode) and FRAME_BODY (printable chars of the body)
read_frame() {
  local -a h
  read -r -a h < <(head -c 9 <&"$1" | od -An -v -tx1)
  (( ${#h[@]} == 9 )) || return 1
  FRAME_OP=${h[4]}
  local len=$((16#${h[5]}${h[6]}${h[7]}${h[8]}))
  FRAME_BODY=$(head -c "$len" <&"$1" | tr -c '[:print:]' ' ')
}

cmd_ready() {
  local ip; ip=$(node_ip "$1")
  exec 3<>"/dev/tcp/$ip/9042" || return 1
  local opts='\x00\x01\x00\x0bCQL_VERSION\x00\x053.0.0'
  printf "\\x04\\x00\\x00\\x01\\x01$(be32 22)$opts" >&3
  read_frame 3 || return 1
  [[ $FRAME_OP == 02 ]] || { echo "STARTUP answered with opcode $FRAME_OP: $FRAME_BODY" >&2; return 1; }
  local q='SELECT release_version FROM system.local'
  # body: <long string query> <consistency ONE> <flags 0>
  printf "\\x04\\x00\\x00\\x02\\x07$(be32 $((4 + ${#q} + 3)))$(be32 ${#q})%s\\x00\\x01\\x00" "$q" >&3
  read_frame 3 || return 1
  exec 3<&-
  [[ $FRAME_OP == 08 ]] || { echo "query answered with opcode $FRAME_OP: $FRAME_BODY" >&2; return 1; }
  # The single cell is the last token of the row; the column spec before it names the column.
  local v; v=$(grep -oE '[0-9]+\.[0-9]+\.[0-9]+[A-Za-z0-9.-]*' <<<"$FRAME_BODY" | tail -n1)
  [[ -n $v ]] || { echo "unexpected result frame: $FRAME_BODY" >&2; return 1; }
  echo "$v"
}

cmd_wait() {
  local i=$1 timeout=${2:-180} d t0 pid v started; d=$(node_dir "$i")
  t0=$(now_ms)
  while :; do
    pid=$(node_pid "$i")
    if [[ -z $pid ]]; then
      note "node$i is not running (died during startup?); last log lines:"
      tail -n 30 "$d/logs/system.log" >&2 2>/dev/null || true
      tail -n 30 "$d/logs/stdout.log" >&2 2>/dev/null || true
      return 1
    fi
    # The whole probe is bounded: a node that accepts but never answers must not hang us.
    if v=$(timeout 10 "$SELF" ready "$i" 2>/dev/null); then
      started=$(cat "$d/started_at" 2>/dev/null || echo "$t0")
      note "node$i ($(node_ip "$i"):9042) answers CQL: release_version $v; waited $(secs_since "$t0") s, $(secs_since "$started") s since start"
      return 0
    fi
    if (( $(now_ms) - t0 > timeout * 1000 )); then
      note "node$i: no CQL answer after ${timeout}s; last log lines:"
      tail -n 30 "$d/logs/system.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 1
  done
}

# --- tools ----------------------------------------------------------------------------------

cmd_nodetool() {
  local i=$1; shift
  check_java
  jars_ready || die "no Cassandra jars; run: $SELF fetch"
  # Same heap/GC limits as bin/nodetool: each call is a short-lived JVM on a busy machine.
  [[ -f $RUN_DIR/conf/jvm17-modules.args ]] || die "no config in $RUN_DIR; run: $SELF init N"
  "$JAVA" @"$RUN_DIR/conf/jvm17-modules.args" -Xmx128m -XX:ParallelGCThreads=1 \
    -Dlogback.configurationFile="$RUN_DIR/conf/logback-tools.xml" \
    -cp "$RUN_DIR/conf:$LIB_DIR/*" org.apache.cassandra.tools.NodeTool \
    -h 127.0.0.1 -p "$(node_jmx "$i")" "$@"
}

cmd_status() {
  local i pid
  for i in $(seq "$MAX_NODES"); do
    [[ -d $(node_dir "$i") ]] || continue
    pid=$(node_pid "$i")
    if [[ -n $pid ]]; then
      echo "node$i $(node_ip "$i") running pid $pid rss $(awk '/VmRSS/ {print $2 " " $3}' "/proc/$pid/status")"
    else
      echo "node$i $(node_ip "$i") stopped"
    fi
  done
}

cmd_wipe() {
  local i
  # SIGKILL, not a drain: the data is deleted right after, and three sequential drains
  # would cost ~7 s each.
  for i in $(seq "$MAX_NODES"); do cmd_kill "$i"; done
  rm -rf "$RUN_DIR"
  note "removed $RUN_DIR"
}

need_index() { check_index "${1:-}"; }

case "${1:-}" in
  fetch)    cmd_fetch ;;
  init)     cmd_init "${2:-1}" ;;
  start)    need_index "${2:-}"; cmd_start "$2" ;;
  wait)     need_index "${2:-}"; cmd_wait "$2" "${3:-180}" ;;
  ready)    need_index "${2:-}"; cmd_ready "$2" ;;
  stop)     need_index "${2:-}"; cmd_stop "$2" ;;
  kill)     need_index "${2:-}"; cmd_kill "$2" ;;
  nodetool) need_index "${2:-}"; node=$2; shift 2; cmd_nodetool "$node" "$@" ;;
  status)   cmd_status ;;
  log)      need_index "${2:-}"; tail -n "${3:-50}" "$(node_dir "$2")/logs/system.log" ;;
  paths)    printf 'version %s\ncache   %s\nlib     %s\nrun     %s\njava    %s\n' \
              "$VERSION" "$CACHE_DIR" "$LIB_DIR" "$RUN_DIR" "$JAVA" ;;
  wipe)     cmd_wipe ;;
  *)        sed -n '2,/^set -euo/p' "$SELF" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
