#!/usr/bin/env bash
# Installs what the tests and the demo need, idempotently: npm packages, the native TensorFlow backend,
# the Debian tools the tests drive (promtool/Prometheus, openssl), a real MinIO server and kustomize
# built from the Go module proxy.
# Every step is skipped when its result is already there, so running it again costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CXR_SYNTH_CACHE="${CXR_SYNTH_CACHE:-$HOME/.cache/cxr-synth}"
mkdir -p "$CXR_SYNTH_CACHE"
log() { printf '[setup] %s\n' "$*" >&2; }

# 1. npm packages: reinstall only when package-lock.json changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.cxr-lock-hash ] || [ "$(cat node_modules/.cxr-lock-hash)" != "$lock_hash" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.cxr-lock-hash
fi
# 1b. The native TensorFlow backend: tfjs-node's binding built against the tensorflow-cpu wheel from PyPI
# (no libtensorflow download; cached, about a minute the first time). Re-run after every npm ci, which wipes it.
if ! bash scripts/tfjs-native.sh >/dev/null; then
  [ "${CXR_SYNTH_TF_BACKEND:-}" = tensorflow ] && { log "native TensorFlow backend required but failed"; exit 1; }
  log "native TensorFlow backend unavailable: compute falls back to wasm"
fi

# The demo needs nothing more.
[ "${1:-}" = "--npm-only" ] && exit 0

# 2. Debian packages the test suites run for real.
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v openssl >/dev/null || need+=(openssl)
# clang-14 and lld-14 rebuild the WebAssembly SIMD kernels for the test that checks the committed build is current.
command -v clang-14 >/dev/null || need+=(clang-14)
command -v wasm-ld-14 >/dev/null || need+=(lld-14)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    log "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})"; exit 1
  fi
fi

# 3. A real S3 server for the integration tests.
bash scripts/minio.sh >/dev/null

# 4. kustomize and grpc_health_probe (Go module proxy) for the Kubernetes manifest and probe tests.
bash scripts/kustomize.sh >/dev/null
