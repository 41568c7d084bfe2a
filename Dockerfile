# syntax=docker/dockerfile:1
#
# pullguard container image.
#
#   docker build -t pullguard .
#   docker run --rm --read-only --tmpfs /tmp -p 8443:8443 -p 9090:9090 pullguard
#
# Three stages: compile with the full Node 24 image, install production
# dependencies only, run on distroless (no shell, no package manager) as a
# numeric non-root user. Only dist/, production node_modules, package.json and
# the example config end up in the final image: no sources, tests, dev
# dependencies or certificates (certificates come from a Secret or from
# --bootstrap-certs at run time; see manifests/).
#
# Base images are pinned by tag here. For release builds pin them by digest
# too (tag@sha256:...), e.g. with `crane digest gcr.io/distroless/nodejs24-debian12:nonroot`,
# and let a bot (Renovate/Dependabot) bump them; a digest cannot be looked up
# from where this file was written, and a made-up one would break the build.

# --- build: compile TypeScript ------------------------------------------------
FROM node:24-bookworm AS build
WORKDIR /app
# Manifests first: the dependency layer is cached until they change.
# --ignore-scripts: no install script runs at build time (none is needed to
# compile; esbuild's, pulled in by the dev tooling, only checks its binary).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies only ----------------------------------
FROM node:24-bookworm AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ------------------------------------------------------------------
# Distroless Node.js 24 (LTS, supported until April 2028; Node 20 reached its
# end of life on 2026-04-30) on Debian 12, "nonroot" variant (uid/gid 65532).
# .ci/run runs the whole test suite on this Node major too.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
# OCI annotations (github.com/opencontainers/image-spec, annotations.md). The
# version must equal package.json's, which `pullguard --version` and
# pullguard_build_info report (test/dockerfile.test.ts keeps them in step).
LABEL org.opencontainers.image.title="pullguard" \
      org.opencontainers.image.description="Kubernetes admission webhook: imagePullSecrets by registry, Always pulls for private images" \
      org.opencontainers.image.version="0.2.0" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# DEV_CERT_DIR is only used when no certificate is configured and
# --bootstrap-certs is not given (a plain `docker run`): development
# certificates are then generated under /tmp, never in the read-only image.
ENV NODE_ENV=production \
    DEV_CERT_DIR=/tmp/pullguard-certs
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The default config (../manifests/example-config.yaml relative to
# dist/main.js) so the image starts without a mounted config; Kubernetes sets
# PULLGUARD_CONFIG to the mounted ConfigMap instead.
COPY manifests/example-config.yaml ./manifests/example-config.yaml
# Numeric, so the kubelet can verify runAsNonRoot without /etc/passwd.
USER 65532:65532
# 8443: HTTPS webhook (PORT); 9090: /healthz, /readyz, /metrics (HEALTH_PORT).
EXPOSE 8443 9090
# No HEALTHCHECK: Kubernetes ignores it (the kubelet runs the Deployment's
# startup/liveness/readiness probes against :9090), and distroless has no
# curl or shell to run one with.
# Exec form: node is PID 1 and receives SIGTERM itself, so the graceful drain
# (DRAIN_SECONDS) runs. Flags such as --bootstrap-certs come as container args.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
