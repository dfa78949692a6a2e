#!/usr/bin/env bash
# Builds the MinIO server used by the integration tests and local runs, from the Go module proxy, pinned.
# Cached in ${CXR_SYNTH_CACHE:-$HOME/.cache/cxr-synth}/minio-bin; the build is skipped when a working binary is there.
# Prints the path of the binary on stdout (last line) and its version on stderr.
# A real S3 server, not a fake: the tests exercise multipart uploads, presigned URLs and outages against it.
set -euo pipefail

# Pinned: a pseudo-version of github.com/minio/minio (the module has no semver tags Go accepts).
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

cache="${CXR_SYNTH_CACHE:-${HOME:-/root}/.cache/cxr-synth}"
bindir="$cache/minio-bin"
bin="$bindir/minio"
stamp="$bindir/VERSION"

works() { [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; }

# A binary built from another pin is rebuilt; one without a stamp (built by hand with the same command) is kept.
if works && { [ ! -f "$stamp" ] || [ "$(cat "$stamp")" = "$MINIO_VERSION" ]; }; then
  echo "minio: cached $bin ($MINIO_MODULE@$MINIO_VERSION)" >&2
else
  command -v go >/dev/null 2>&1 || { echo "minio: Go is required to build MinIO (apt-get install golang-go)" >&2; exit 1; }
  mkdir -p "$bindir"
  echo "minio: building $MINIO_MODULE@$MINIO_VERSION into $bindir (takes several minutes once)" >&2
  GOBIN="$bindir" go install "$MINIO_MODULE@$MINIO_VERSION"
  works || { echo "minio: build finished but '$bin --version' fails" >&2; exit 1; }
  echo "$MINIO_VERSION" >"$stamp"
fi
"$bin" --version | head -1 | sed "s|\$| (module $MINIO_MODULE@$MINIO_VERSION)|" >&2
echo "$bin"
