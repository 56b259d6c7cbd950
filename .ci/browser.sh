#!/usr/bin/env bash
# Real browser: Debian's Chromium driven by playwright-core through Swagger UI of a sandbox gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pns-target}"
source .ci/lib.sh

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd .ci/browser && npm install --no-audit --no-fund --silent)

start_gateway 18182
trap stop_gateway EXIT
GATEWAY_URL="http://127.0.0.1:18182" ARTIFACTS_DIR="$PWD/artifacts" node .ci/browser/swagger.mjs
