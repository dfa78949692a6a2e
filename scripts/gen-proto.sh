#!/usr/bin/env bash
# Regenerates shared/proto from proto/ with ts-proto through buf (both from npm: nothing to download).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf shared/proto
npx --no-install buf generate
npx --no-install buf lint
