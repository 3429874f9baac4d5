# The Temporal server as the cluster profile runs it: temporal-server and temporal-sql-tool built from the Go module
# proxy (scripts/setup/temporal-server.sh), the server's PostgreSQL schemas, and the generated config
# (scripts/images/temporal-config.ts). One image for every service: `temporal-entrypoint.sh <service>`, or
# `temporal-schema.sh` for the one-shot schema job. Built by scripts/setup/compose-images.sh.
ARG BASE
FROM ${BASE}
COPY temporal-server temporal-sql-tool temporal-entrypoint.sh temporal-schema.sh /usr/local/bin/
COPY schema /etc/temporal/schema
COPY config /etc/temporal/config
USER node
EXPOSE 7233 7234 7235 7239 6933 6934 6935 6939
ENTRYPOINT ["/usr/local/bin/temporal-entrypoint.sh"]
CMD ["frontend"]
