#!/usr/bin/env bash
# Make the native `tensorflow` backend of TensorFlow.js loadable without its libtensorflow download.
#
# @tensorflow/tfjs-node(-gpu)'s own install script downloads libtensorflow 2.9.1 from storage.googleapis.com, which
# fails offline and in air-gapped hospital networks, so package.json denies that script (allowScripts) and this
# script does the install instead, from registry packages only:
#   1. libtensorflow from a PyPI wheel (`tensorflow-cpu`, or `tensorflow` + NVIDIA's CUDA wheels for gpu): the
#      wheel ships libtensorflow_cc.so.2 (which exports the whole TF/TFE C API) and the C API headers;
#   2. the package's own binding.gyp built with node-gyp (npm's copy) against Node's installed headers (--nodedir);
#   3. tfjs_binding.node placed where the package's dist/index.js looks (node-pre-gyp's module_path,
#      lib/napi-v<N>/), with deps/lib pointing at the cached libraries (the binding's rpath is $ORIGIN/../../deps/lib);
#   4. a smoke check: a plain import, backend `tensorflow`, values and gradients equal to the `cpu` backend.
# Everything downloaded or built is cached under $CXR_SYNTH_CACHE/tfjs-native (default ~/.cache/cxr-synth); a
# second run (or a run after `npm ci` wiped node_modules) only relinks, copies and checks: a few seconds.
# See docs/native-tensorflow.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/tfjs-native.sh [cpu|gpu] [--check] [--force] [--copy]
  cpu       (default) @tensorflow/tfjs-node against the tensorflow-cpu wheel
  gpu       @tensorflow/tfjs-node-gpu against the tensorflow wheel (CUDA 12) and NVIDIA's CUDA/cuDNN wheels
  --check   only report whether the backend loads and matches the cpu backend (exit 0/1); installs nothing
  --force   rebuild the binding even when a cached one exists
  --copy    copy the libraries into node_modules instead of linking into the cache (for container images)
environment:
  CXR_SYNTH_CACHE           cache root (default ~/.cache/cxr-synth)
  TFJS_NATIVE_TF_VERSION    TensorFlow wheel version (default 2.21.0; others are unpinned: no sha256 check)
  TFJS_NATIVE_CUDA          gpu only: `wheels` (default: NVIDIA's pip wheels) or `system` (use the host's CUDA 12
                            and cuDNN 9 from the loader path; downloads no CUDA wheels)
  TFJS_NATIVE_NODEDIR       directory holding include/node/node_api.h (default: the prefix of the running node)
  PYTHON                    python with pip, used only to download wheels (default python3)
EOF
}

FLAVOR=cpu MODE=install FORCE=0 COPY=0
for arg in "$@"; do
  case "$arg" in
    cpu | gpu) FLAVOR=$arg ;;
    --check) MODE=check ;;
    --force) FORCE=1 ;;
    --copy) COPY=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

log() { printf 'tfjs-native: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
START=$(date +%s)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CXR_SYNTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cxr-synth}/tfjs-native
TF_VERSION=${TFJS_NATIVE_TF_VERSION:-2.21.0}
CUDA_SOURCE=${TFJS_NATIVE_CUDA:-wheels}
PY=${PYTHON:-python3}

# sha256 of the default wheels, as published on PyPI (cp311 manylinux_2_27_x86_64; the .so files inside do not link
# libpython, so one Python tag serves every interpreter).
case "$FLAVOR" in
  cpu) PKG=@tensorflow/tfjs-node WHEEL=tensorflow-cpu
       PINNED_SHA=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c ;;
  gpu) PKG=@tensorflow/tfjs-node-gpu WHEEL=tensorflow
       PINNED_SHA=9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124 ;;
esac
[ "$TF_VERSION" = 2.21.0 ] || PINNED_SHA=
case "$CUDA_SOURCE" in wheels | system) ;; *) die "TFJS_NATIVE_CUDA must be wheels or system (got $CUDA_SOURCE)" ;; esac
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || die "only Linux x86_64 is scripted (got $(uname -s)-$(uname -m))"

PKG_DIR=$ROOT/node_modules/$PKG
check() { (cd "$ROOT" && node --import tsx scripts/tfjs-native/check.ts "$PKG"); }

if [ "$MODE" = check ]; then
  [ -f "$PKG_DIR/package.json" ] || die "$PKG is not in node_modules (run npm ci)"
  check
  exit
fi

# --- preflight: the JS package (an optionalDependency whose install script package.json denies) -------------------
[ -f "$PKG_DIR/binding.gyp" ] || die "$PKG is not in node_modules: run \`npm ci\` first (it is an optionalDependency)"
PKG_VERSION=$(node -p "require('$PKG_DIR/package.json').version")
CORE_VERSION=$(node -p "require('$ROOT/node_modules/@tensorflow/tfjs-core/package.json').version")
[ "$PKG_VERSION" = "$CORE_VERSION" ] ||
  die "$PKG $PKG_VERSION does not match @tensorflow/tfjs-core $CORE_VERSION: align the versions in package.json"
# Ask node-pre-gyp (what dist/index.js calls) where it will look, e.g. lib/napi-v8/tfjs_binding.node.
BINDING=$(cd "$PKG_DIR" && node -e \
  "console.log(require(require.resolve('@mapbox/node-pre-gyp')).find(process.cwd() + '/package.json'))")
NAPI=$(basename "$(dirname "$BINDING")")
NAPI=${NAPI#napi-v}
[[ "$NAPI" =~ ^[0-9]+$ ]] || die "unexpected binding path from node-pre-gyp: $BINDING"
SRC_HASH=$(cat "$PKG_DIR/binding.gyp" "$PKG_DIR"/binding/* | sha256sum | cut -c1-12)

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one install at a time per cache (CI and a developer shell may overlap)

LIBS=$CACHE/libtensorflow-$FLAVOR-$TF_VERSION
[ "$FLAVOR" = gpu ] && [ "$CUDA_SOURCE" = wheels ] && LIBS=$LIBS-cudawheels
SITE=$LIBS/site # laid out like site-packages: tensorflow/ and nvidia/ side by side, as the libraries' rpaths expect
BIN_CACHE=$LIBS/binding/${PKG#@tensorflow/}-$PKG_VERSION-napi$NAPI-$SRC_HASH/tfjs_binding.node

# Fast path: this exact install is already in place (the cached binding, libraries reachable): nothing to do.
# (--check loads it and runs the parity cases; setup scripts call this on every run, so it must cost ~nothing.)
if [ "$FORCE" = 0 ] && [ -f "$LIBS/.complete" ] && [ -f "$BIN_CACHE" ] && cmp -s "$BIN_CACHE" "$BINDING" &&
  [ -e "$PKG_DIR/deps/lib/libtensorflow_cc.so.2" ] && [ -e "$PKG_DIR/deps/lib/libtensorflow_framework.so.2" ] &&
  { [ "$COPY" = 0 ] || [ ! -L "$PKG_DIR/deps/lib/libtensorflow_cc.so.2" ]; }; then
  log "up to date: $PKG $PKG_VERSION on TensorFlow $TF_VERSION ($FLAVOR); \`$0 --check\` verifies it"
  exit 0
fi

# --- 1. libtensorflow from the wheel(s) -----------------------------------------------------------------------------
pip_download() { # <dest> <requirement...>: binary wheels for manylinux x86_64, whatever python runs pip
  "$PY" -m pip --version >/dev/null 2>&1 ||
    die "$PY has no pip: install it (Debian: apt-get install python3-pip) or set PYTHON"
  local dest=$1; shift
  "$PY" -m pip download --quiet --no-deps --no-cache-dir --only-binary=:all: --implementation cp \
    --python-version 3.11 --abi cp311 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 -d "$dest" "$@" ||
    die "pip download $* failed (registry unreachable? set PIP_INDEX_URL to a mirror)"
}
unzip_members() { # <wheel> <dest> <prefix...>: extract members under the prefixes, keeping file modes
  "$PY" - "$@" <<'EOF'
import os, sys, zipfile
whl, dest, *prefixes = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    for m in z.infolist():
        if not m.is_dir() and m.filename.startswith(tuple(prefixes)):
            path = z.extract(m, dest)
            mode = (m.external_attr >> 16) & 0o777
            os.chmod(path, mode or 0o644)
EOF
}

if [ ! -f "$LIBS/.complete" ]; then
  T0=$(date +%s)
  TMP=$LIBS.tmp
  rm -rf "$TMP" && mkdir -p "$TMP/wheels"
  log "downloading $WHEEL==$TF_VERSION from PyPI (~275 MB cpu, ~570 MB gpu)"
  if [ -n "$PINNED_SHA" ]; then
    printf '%s==%s --hash=sha256:%s\n' "$WHEEL" "$TF_VERSION" "$PINNED_SHA" >"$TMP/requirements.txt"
    pip_download "$TMP/wheels" --require-hashes -r "$TMP/requirements.txt"
  else
    pip_download "$TMP/wheels" "$WHEEL==$TF_VERSION"
  fi
  WHL=$(ls "$TMP"/wheels/*.whl)
  log "extracting libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers"
  # Only the headers the binding includes (tensorflow/c/** and the TString/TSL status headers it pulls in).
  unzip_members "$WHL" "$TMP/site" tensorflow/libtensorflow_cc.so.2 tensorflow/libtensorflow_framework.so.2 \
    tensorflow/include/tensorflow/c/ tensorflow/include/tensorflow/core/platform/ \
    tensorflow/include/tsl/platform/ tensorflow/include/xla/tsl/c/
  if [ "$FLAVOR" = gpu ] && [ "$CUDA_SOURCE" = wheels ]; then
    # The CUDA wheels TensorFlow's `and-cuda` extra names, pinned to its lower bounds: the versions it was built with.
    mapfile -t CUDA_REQS < <("$PY" - "$WHL" <<'EOF'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
    for line in z.read(meta).decode().splitlines():
        m = re.match(r'Requires-Dist: (nvidia-[\w-]+)\s*\(?([^;]*)\)?;\s*extra == "and-cuda"', line)
        if m:
            low = re.search(r'>=\s*([\w.]+)', m.group(2))
            print(f'{m.group(1)}=={low.group(1)}' if low else m.group(1))
EOF
    )
    [ "${#CUDA_REQS[@]}" -gt 0 ] || die "no and-cuda requirements found in $(basename "$WHL")"
    log "downloading ${#CUDA_REQS[@]} NVIDIA wheels (several GB): ${CUDA_REQS[*]}"
    pip_download "$TMP/cuda-wheels" "${CUDA_REQS[@]}"
    for w in "$TMP"/cuda-wheels/*.whl; do unzip_members "$w" "$TMP/site" nvidia/; done
  fi
  rm -rf "$TMP/wheels" "$TMP/cuda-wheels" "$TMP/requirements.txt"
  for so in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
    [ -f "$TMP/site/tensorflow/$so" ] || die "$so missing from $(basename "$WHL")"
  done
  rm -rf "$LIBS" && mv "$TMP" "$LIBS" && touch "$LIBS/.complete"
  log "libtensorflow cached in $LIBS ($(du -sh "$LIBS" | cut -f1), $(($(date +%s) - T0)) s)"
fi

# --- 2. point the package's deps/ at the libraries (what binding.gyp links and the binding's rpath loads) ----------
place() { # <src> <dest>: link into the cache, or copy with --copy
  if [ "$COPY" = 1 ]; then cp -a "$1" "$2"; else ln -s "$1" "$2"; fi
}
rm -rf "$PKG_DIR/deps"
mkdir -p "$PKG_DIR/deps/lib"
place "$SITE/tensorflow/libtensorflow_cc.so.2" "$PKG_DIR/deps/lib/libtensorflow_cc.so.2"
place "$SITE/tensorflow/libtensorflow_framework.so.2" "$PKG_DIR/deps/lib/libtensorflow_framework.so.2"
# binding.gyp links -ltensorflow -ltensorflow_framework; the wheel's C API library is libtensorflow_cc (its SONAME
# is what the binding records as NEEDED, so these two names matter only at link time).
ln -s libtensorflow_cc.so.2 "$PKG_DIR/deps/lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$PKG_DIR/deps/lib/libtensorflow_framework.so"
place "$SITE/tensorflow/include" "$PKG_DIR/deps/include"
# The GPU libraries dlopen CUDA via rpath $ORIGIN/../nvidia/<lib>/lib: deps/nvidia sits where that resolves from
# deps/lib (and $SITE/nvidia beside $SITE/tensorflow covers a loader that resolves $ORIGIN through the links).
[ -d "$SITE/nvidia" ] && place "$SITE/nvidia" "$PKG_DIR/deps/nvidia"

# --- 3. the binding: cached build, else node-gyp against Node's own headers ---------------------------------------
if [ "$FORCE" = 1 ] || [ ! -f "$BIN_CACHE" ]; then
  NODEDIR=${TFJS_NATIVE_NODEDIR:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}
  [ -f "$NODEDIR/include/node/node_api.h" ] ||
    die "Node headers not found in $NODEDIR/include/node (set TFJS_NATIVE_NODEDIR to a Node install or source tree)"
  NODE_GYP=${npm_config_node_gyp:-$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js}
  [ -f "$NODE_GYP" ] || die "node-gyp not found (looked for npm's copy at $NODE_GYP)"
  T0=$(date +%s)
  log "building $PKG $PKG_VERSION binding (N-API $NAPI) with node-gyp --nodedir=$NODEDIR"
  BUILD_LOG=$CACHE/build-$FLAVOR.log
  # --nodedir: headers from the local Node install, never a download; --devdir keeps node-gyp's state in the cache.
  if ! (cd "$PKG_DIR" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --devdir="$CACHE/node-gyp" \
    --module_name=tfjs_binding --module_path="$(dirname "$BINDING")" --napi_build_version="$NAPI" \
    --jobs="$(nproc)") >"$BUILD_LOG" 2>&1; then
    tail -n 30 "$BUILD_LOG" >&2
    die "node-gyp failed (full log: $BUILD_LOG)"
  fi
  rm -rf "$PKG_DIR/build"
  mkdir -p "$(dirname "$BIN_CACHE")"
  cp "$BINDING" "$BIN_CACHE.tmp" && mv "$BIN_CACHE.tmp" "$BIN_CACHE"
  log "binding built in $(($(date +%s) - T0)) s"
else
  mkdir -p "$(dirname "$BINDING")"
  cp "$BIN_CACHE" "$BINDING"
  log "binding restored from cache"
fi

# --- 4. smoke check; a binding that fails it is removed, so shared/tf falls back cleanly --------------------------
if ! check; then
  rm -f "$BINDING"
  die "the native backend failed its check; removed $BINDING (shared/tf falls back to wasm)"
fi
log "ok: $PKG uses TensorFlow $TF_VERSION ($FLAVOR) in $(($(date +%s) - START)) s"
