# syntax=docker/dockerfile:1
# leadenrich-server in a container: the web UI built with Node.js, the C++ programs built on
# Debian 12, both copied into a Debian 12 slim image that runs as a non-root user.
# Build and run: docs/deploy.md (`docker build -t leadenrich .`, or `docker compose up`).

# ---- the web UI (Vite needs Node.js 20.19 or newer; Debian 12's own is 18) ----
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# ---- the programs ----
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config ca-certificates \
      libcurl4-openssl-dev libsimdjson-dev libfmt-dev libsqlite3-dev libpq-dev libcpp-httplib-dev libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY src/ src/
COPY apps/ apps/
COPY --from=web /src/web/dist/ web/dist/
# Only the library and the programs: no tests, examples, benchmarks or Python module.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DLEADENRICH_BUILD_TESTS=OFF -DLEADENRICH_BUILD_EXAMPLES=OFF -DLEADENRICH_BUILD_BENCH=OFF \
      -DLEADENRICH_BUILD_PYTHON=OFF -DLEADENRICH_BUILD_APPS=ON \
 && cmake --build build -j"$(nproc)" --target leadenrich_server leadenrich_cli leadenrich_sandbox \
 && DESTDIR=/out cmake --install build \
 && rm -rf /out/usr/include /out/usr/lib/*/cmake /out/usr/lib/*.a /out/usr/lib/*/*.a

# ---- what runs ----
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# The shared libraries the programs link (as `ldd leadenrich-server` lists them on Debian 12:
# curl, SQLite, libpq, fmt, simdjson, Debian's cpp-httplib with its OpenSSL and brotli), CA
# certificates for pipe0 and Aturiya, and curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates curl libcurl4 libsqlite3-0 libpq5 libfmt9 libsimdjson14 libcpp-httplib0.11 libssl3 libbrotli1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 leadenrich \
 && useradd --system --uid 10001 --gid leadenrich --home-dir /var/lib/leadenrich --shell /usr/sbin/nologin leadenrich \
 && install -d -o leadenrich -g leadenrich -m 0750 /var/lib/leadenrich
COPY --from=build /out/usr/ /usr/
USER leadenrich:leadenrich
WORKDIR /var/lib/leadenrich
VOLUME ["/var/lib/leadenrich"]
EXPOSE 8000
# Configuration comes from the environment (docs/server.md): ATURIYA_*, PIPE0_*,
# LEADENRICH_API_KEYS (required on this non-loopback address), LEADENRICH_ALLOWED_HOSTS, ...
# The store is the server's default under the working directory, in the volume:
# .leadenrich/store.db, or .leadenrich/sandbox.db with --sandbox (never mixed); or, with
# LEADENRICH_STORE=postgresql://..., a PostgreSQL database shared by replicas and workers
# (deploy/compose.postgresql.yaml, docs/scaling.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS --max-time 4 http://127.0.0.1:8000/api/health || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["leadenrich-server", "--host", "0.0.0.0", "--port", "8000"]
CMD []
