#!/usr/bin/env bash
# Runs TensorFlow.js's own kernel test suite (tfjs-core's ~4200 specs, with tfjs-node's ignore list) on the native
# backend built by scripts/tfjs-native.sh: the evidence that the wheel's newer libtensorflow behaves like the 2.9.1
# that tfjs-node 4.22 was released against. Not part of `npm test` (jasmine, ~1 minute); see docs/native-tensorflow.md.
#   scripts/tfjs-native/upstream-tests.sh [cpu|gpu] [--grep REGEX]
# Needs jasmine 4.2.1 and yargs 16 (tfjs-node's test dependencies): installed once from npm into the cache, not into
# the project. tfjs-node's dist/run_tests.js requires tfjs-core's ESM test files, which Node cannot require directly,
# so it is bundled with esbuild (already in node_modules, via tsx) into CommonJS first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${CXR_SYNTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cxr-synth}/tfjs-native
PKG=@tensorflow/tfjs-node
case "${1:-}" in
  cpu) shift ;;
  gpu) PKG=@tensorflow/tfjs-node-gpu; shift ;;
esac
PKG_DIR=$ROOT/node_modules/$PKG
ESBUILD=$ROOT/node_modules/.bin/esbuild
[ -x "$ESBUILD" ] || { echo "esbuild not found in node_modules (run npm ci)" >&2; exit 1; }

DEPS=$CACHE/upstream-tests
if [ ! -f "$DEPS/.complete" ]; then
  mkdir -p "$DEPS"
  [ -f "$DEPS/package.json" ] || echo '{"private":true}' >"$DEPS/package.json"
  npm install --prefix "$DEPS" --no-audit --no-fund --no-save --loglevel=error jasmine@4.2.1 yargs@16.2.0
  touch "$DEPS/.complete"
fi

# The bundle must sit in the package's dist/: index.js finds the binding relative to its own directory.
BUNDLE=$PKG_DIR/dist/run_tests.bundle.cjs
# --ignore-annotations: tfjs-core declares itself side-effect free, which would drop every test file's registration.
"$ESBUILD" "$PKG_DIR/dist/run_tests.js" --bundle --platform=node --format=cjs --main-fields=main,module \
  --ignore-annotations --external:jasmine --external:jasmine-core --external:yargs --external:@mapbox/node-pre-gyp \
  --outfile="$BUNDLE" --log-level=error
cd "$PKG_DIR"
TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} NODE_PATH=$DEPS/node_modules node "$BUNDLE" "$@"
