#!/bin/sh
# Runs one Temporal service (frontend, history, matching or worker) with the image's config; it announces this
# container's address to the other services through the membership table.
set -eu
service="${1:?usage: temporal-entrypoint.sh frontend|history|matching|worker}"
TEMPORAL_BROADCAST_ADDRESS="${TEMPORAL_BROADCAST_ADDRESS:-$(hostname -i | awk '{print $1}')}"
export TEMPORAL_BROADCAST_ADDRESS
exec temporal-server --root /etc/temporal --config config --env temporal --allow-no-auth start --service "$service"
