# syntax=docker/dockerfile:1
# Build: the whole workspace in a Rust image; run: the gateway (and pns-sim) alone in a slim, non-root image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p gateway -p pns-sim \
    && cp target/release/gateway target/release/pns-sim /usr/local/bin/

FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/pns --create-home pns
COPY --from=build /usr/local/bin/gateway /usr/local/bin/pns-sim /usr/local/bin/
USER pns
WORKDIR /var/lib/pns
ENV PNS_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["serve"]
