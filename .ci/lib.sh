# Shared by the CI steps that need a running sandbox gateway.
# start_gateway PORT: starts the debug build on PORT with a throwaway SQLite file; sets GATEWAY_PID and TOKEN.
start_gateway() {
  local port=$1 dir
  dir=$(mktemp -d)
  export PNS_JWT_SECRET="ci-only-secret-ci-only-secret-ci-only-1234"
  PNS_LISTEN="127.0.0.1:${port}" PNS_DATABASE_URL="sqlite://${dir}/pns.db?mode=rwc" \
    PNS_RATE_LIMIT_PER_SEC=0 "$CARGO_TARGET_DIR/debug/gateway" serve >"${dir}/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  GATEWAY_LOG="${dir}/gateway.log"
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null || { cat "$GATEWAY_LOG"; return 1; }
  TOKEN=$("$CARGO_TARGET_DIR/debug/gateway" token --app ci-app --scope "bindings:read bindings:write admin" --ttl 3600)
  export TOKEN GATEWAY_PID GATEWAY_LOG
}

stop_gateway() {
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
}
