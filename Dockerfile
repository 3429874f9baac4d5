# The platform image: API and workers (choose with the command). TypeScript runs through tsx; no build step.
# Built without a registry by scripts/setup/compose-images.sh: DEPS_IMAGE is the runtime image it builds first (the
# Debian base of scripts/images/base-rootfs.sh with socat and nsenter for the sandbox worker's egress relay, Node, and
# the production npm dependencies: scripts/images/deps.Dockerfile).
ARG DEPS_IMAGE=temporal-agents-deps:latest
FROM ${DEPS_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# Everything .dockerignore leaves in (no tests, benchmarks or local state): a new folder needs no change here. The
# operator commands come along: scripts/create-tenant.ts, scripts/create-admin-key.ts, scripts/register-namespace.ts.
COPY . .
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
