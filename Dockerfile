# The platform image: API and workers (choose with the command). TypeScript runs through tsx; no build step.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
# The sandbox worker's egress relay (nsenter + socat into each sandbox's network namespace).
RUN apt-get update && apt-get install -y --no-install-recommends socat util-linux && rm -rf /var/lib/apt/lists/*
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY codec ./codec
COPY net ./net
COPY api ./api
COPY db ./db
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
