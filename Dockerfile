# syntax=docker/dockerfile:1
# Build the workspace in the Rust image; run the gateway (and pns-sim, for the `sim` compose profile)
# alone in a distroless image: no shell, no package manager, non-root (uid 65532).
#
# The gateway is built for production: without the `sandbox` feature, so the image holds no in-process
# simulator and refuses to start without PNS_UPSTREAM_URL (https://, or http:// to loopback only).
#
#   docker build -t pns-gateway .
#   docker run --rm -p 8080:8080 --env-file .env pns-gateway

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the target dir between builds; the binaries are copied out of
# the cached target dir because it is not part of the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p gateway --no-default-features --target-dir /src/target \
    && cargo build --release --locked -p pns-sim --target-dir /src/target \
    && mkdir -p /out/bin /out/data \
    && cp /src/target/release/gateway /src/target/release/pns-sim /out/bin/

# cc: glibc and libgcc for a Rust binary built on bookworm; :nonroot runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/bin/ /usr/local/bin/
# A writable home for the default SQLite file (PostgreSQL is the production choice).
COPY --from=build --chown=65532:65532 /out/data /var/lib/pns
WORKDIR /var/lib/pns
USER 65532:65532
ENV PNS_LISTEN=0.0.0.0:8080 \
    PNS_LOG_FORMAT=json \
    RUST_LOG=info
EXPOSE 8080
# SIGTERM stops accepting, finishes in-flight requests (PNS_SHUTDOWN_TIMEOUT_SECS), stops the jobs, exits 0.
STOPSIGNAL SIGTERM
# No curl in the image: the binary probes its own /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
    CMD ["/usr/local/bin/gateway", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["serve"]
