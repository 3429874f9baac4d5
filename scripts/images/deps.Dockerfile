# The platform's runtime: Node (the binary setup already pinned) and the production npm dependencies, on the base image.
# Built by scripts/setup/compose-images.sh from a folder holding `node`, package.json and node_modules (npm ci --omit=dev).
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
WORKDIR /app
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
