#!/usr/bin/env bash
# Runs the whole cxr-synth mesh on this machine without containers: MinIO (the binary scripts/minio.sh
# builds), the four services as separate processes (node bin/cxr-synth.js serve <name>), and Prometheus
# scraping them with deploy/prometheus/local.yml and the alert/recording rules. Ctrl-C stops everything:
# the services first (they drain in-flight calls on SIGTERM), then Prometheus, then MinIO.
#
#   deploy/local/run-mesh.sh              run until Ctrl-C
#   deploy/local/run-mesh.sh --smoke      start, wait until Prometheus sees every service up, stop (exit 0/1)
#   deploy/local/run-mesh.sh --no-minio   filesystem storage instead of MinIO (the embedded default layout)
#
# Environment: CXR_SYNTH_CACHE (default ~/.cache/cxr-synth), CXR_SYNTH_LOCAL_DIR (state: MinIO data,
# Prometheus TSDB, logs; default $CXR_SYNTH_CACHE/local), MINIO_PORT (9000), PROMETHEUS_PORT (9090), and
# the services' own CXR_SYNTH_<SERVICE>_PORT / _METRICS_PORT (shared/config/keys.ts defaults 5005x / 945x).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${CXR_SYNTH_CACHE:-$HOME/.cache/cxr-synth}
STATE=${CXR_SYNTH_LOCAL_DIR:-$CACHE/local}
MINIO_BIN=$CACHE/minio-bin/minio
MINIO_PORT=${MINIO_PORT:-9000}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-$(command -v prometheus || true)}
SERVICES=(storage generator classifier metrics)
declare -A GRPC_PORT=([storage]=50051 [generator]=50052 [classifier]=50053 [metrics]=50054)
declare -A METRICS_PORT=([storage]=9451 [generator]=9452 [classifier]=9453 [metrics]=9454)

SMOKE=0 USE_MINIO=1
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --no-minio) USE_MINIO=0 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[run-mesh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for s in "${SERVICES[@]}"; do
  S=${s^^}
  g="CXR_SYNTH_${S}_PORT" m="CXR_SYNTH_${S}_METRICS_PORT"
  GRPC_PORT[$s]=${!g:-${GRPC_PORT[$s]}}
  METRICS_PORT[$s]=${!m:-${METRICS_PORT[$s]}}
done

[ -n "$PROMETHEUS_BIN" ] || die "prometheus not found (apt-get install prometheus, or set PROMETHEUS_BIN)"
if [ "$USE_MINIO" = 1 ] && [ ! -x "$MINIO_BIN" ]; then
  die "no MinIO binary at $MINIO_BIN: run scripts/minio.sh first (or pass --no-minio)"
fi
mkdir -p "$STATE/logs" "$STATE/prometheus/config" "$STATE/prometheus/data"

# --- processes, and a clean stop ---------------------------------------------------------------------
PIDS=()     # started order; stopped in reverse
NAMES=()
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  log "stopping"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
    # Services drain for up to CXR_SYNTH_SHUTDOWN_DRAIN (25s); give each a little longer, then SIGKILL.
    for _ in $(seq 1 300); do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "${PIDS[$i]}" 2>/dev/null; then
      log "${NAMES[$i]} did not stop in 30s: SIGKILL"
      kill -KILL "${PIDS[$i]}" 2>/dev/null || true
    fi
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  log "stopped"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

start() { # name logfile command...
  local name=$1 logfile=$2
  shift 2
  "$@" >"$logfile" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
  log "$name: pid $! (log: $logfile)"
}

# Waits until the URL answers 200, or the process died, or ~60s passed.
wait_http() { # name pid url
  local name=$1 pid=$2 url=$3
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up; see its log in $STATE/logs"
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name did not answer $url within 60s"
}

# --- MinIO -------------------------------------------------------------------------------------------
export CXR_SYNTH_HOST=${CXR_SYNTH_HOST:-127.0.0.1}
if [ "$USE_MINIO" = 1 ]; then
  # Credentials are generated once per state directory, never hard-coded.
  creds=$STATE/minio.env
  if [ ! -f "$creds" ]; then
    umask 077
    printf 'MINIO_ACCESS_KEY=%s\nMINIO_SECRET_KEY=%s\n' "cxr-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$creds"
    umask 022
  fi
  # shellcheck disable=SC1090
  . "$creds"
  export MINIO_ACCESS_KEY MINIO_SECRET_KEY
  mkdir -p "$STATE/minio"
  start minio "$STATE/logs/minio.log" env MINIO_ROOT_USER="$MINIO_ACCESS_KEY" MINIO_ROOT_PASSWORD="$MINIO_SECRET_KEY" \
    "$MINIO_BIN" server "$STATE/minio" --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$((MINIO_PORT + 1))" --quiet
  wait_http minio "${PIDS[-1]}" "http://127.0.0.1:$MINIO_PORT/minio/health/ready"
  export CXR_SYNTH_STORAGE_URL=${CXR_SYNTH_STORAGE_URL:-s3://cxr-synth}
  export MINIO_ENDPOINT=127.0.0.1:$MINIO_PORT MINIO_USE_SSL=false
else
  export CXR_SYNTH_STORAGE_URL=${CXR_SYNTH_STORAGE_URL:-file://$STATE/data}
fi

# --- the four services -------------------------------------------------------------------------------
for s in "${SERVICES[@]}"; do
  S=${s^^}
  export "CXR_SYNTH_${S}_PORT=${GRPC_PORT[$s]}" "CXR_SYNTH_${S}_METRICS_PORT=${METRICS_PORT[$s]}"
  export "CXR_SYNTH_${S}_ADDR=${CXR_SYNTH_HOST}:${GRPC_PORT[$s]}"
done
for s in "${SERVICES[@]}"; do
  start "$s" "$STATE/logs/$s.log" node "$ROOT/bin/cxr-synth.js" serve "$s"
done
i=0
for s in "${SERVICES[@]}"; do
  # The metrics endpoint is up once the service is; its gRPC health is on the dashboard (up + handled).
  pid_index=$((${#PIDS[@]} - ${#SERVICES[@]} + i))
  wait_http "$s" "${PIDS[$pid_index]}" "http://$CXR_SYNTH_HOST:${METRICS_PORT[$s]}/metrics"
  i=$((i + 1))
done

# --- Prometheus --------------------------------------------------------------------------------------
# local.yml names the default ports; rewrite them to the ones in use. Rules are copied next to it
# because rule_files paths are relative to the config file.
cfg=$STATE/prometheus/config/local.yml
rm -rf "$STATE/prometheus/config/rules"
cp -r "$ROOT/deploy/prometheus/rules" "$STATE/prometheus/config/rules"
sed_args=()
for s in "${SERVICES[@]}"; do
  case $s in storage) d=9451 ;; generator) d=9452 ;; classifier) d=9453 ;; metrics) d=9454 ;; esac
  sed_args+=(-e "s/127\.0\.0\.1:$d\"/$CXR_SYNTH_HOST:${METRICS_PORT[$s]}\"/")
done
sed "${sed_args[@]}" "$ROOT/deploy/prometheus/local.yml" >"$cfg"
start prometheus "$STATE/logs/prometheus.log" "$PROMETHEUS_BIN" --config.file="$cfg" \
  --storage.tsdb.path="$STATE/prometheus/data" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
wait_http prometheus "${PIDS[-1]}" "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"

log "mesh up: gRPC storage ${GRPC_PORT[storage]}, generator ${GRPC_PORT[generator]}, classifier ${GRPC_PORT[classifier]}, metrics ${GRPC_PORT[metrics]}"
log "Prometheus http://127.0.0.1:$PROMETHEUS_PORT  (targets: /targets, alerts: /alerts)"
[ "$USE_MINIO" = 1 ] && log "MinIO http://127.0.0.1:$MINIO_PORT (console :$((MINIO_PORT + 1)); credentials in $STATE/minio.env)"

if [ "$SMOKE" = 1 ]; then
  # Every cxr-synth target scraped successfully at least once (scrape_interval is 5s).
  for _ in $(seq 1 60); do
    up=$(curl -fsS --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" --data-urlencode 'query=sum(up{job="cxr-synth"})' 2>/dev/null |
      sed -n 's/.*"value":\[[^,]*,"\([0-9.]*\)"\].*/\1/p')
    if [ "$up" = "${#SERVICES[@]}" ]; then
      log "smoke: Prometheus sees all ${#SERVICES[@]} services up"
      exit 0
    fi
    sleep 1
  done
  log "smoke: Prometheus did not see every service up within 60s (last: ${up:-none})"
  exit 1
fi

log "Ctrl-C to stop"
# Stay in the foreground until a child dies or a signal arrives.
wait -n "${PIDS[@]}" || true
log "a process exited; see $STATE/logs"
exit 1
