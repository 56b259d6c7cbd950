#!/usr/bin/env bash
# API fuzzing from the gateway's own OpenAPI spec: no 5xx, no response outside its schema.
# Bounded in examples and time. Needs the debug gateway binary built (cargo build -p gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pns-target}"
source .ci/lib.sh

venv="$HOME/.cache/pns-schemathesis"
[ -x "$venv/bin/st" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "schemathesis>=4,<5"; }

start_gateway 18181
trap stop_gateway EXIT
# Excluded, on purpose:
# - positive_data_acceptance: schema-valid bodies may still be refused by rules a schema cannot say
#   (A must differ from B, an X the platform does not own -> 422, a party already bound -> 409);
# - use_after_free: an unbound binding stays readable as history (GET answers its final state).
# One worker: with two, Hypothesis parses lambda sources from two threads at once and CPython 3.11's
# parser can fail with "AST constructor recursion depth mismatch" (a runtime error in the tool, not a
# finding; seen 2026-12-07 on GET /v1/admin/orphans).
"$venv/bin/st" run "http://127.0.0.1:18181/api-docs/openapi.json" \
  --header "Authorization: Bearer ${TOKEN}" \
  --checks all --exclude-checks positive_data_acceptance,use_after_free \
  --max-examples "${ST_MAX_EXAMPLES:-25}" --max-time "${ST_MAX_TIME:-120}" --workers 1 \
  --seed 20261124 --warnings off
