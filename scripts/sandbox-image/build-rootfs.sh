#!/usr/bin/env bash
# Builds the sandbox base image without a registry: a Debian minbase rootfs from debootstrap, a non-root user `agent`
# (uid 1000) owning /workspace, then `docker import`. Usage: build-rootfs.sh <image:tag> <suite> <mirror>
set -euo pipefail
image="$1" suite="${2:-bookworm}" mirror="${3:-http://deb.debian.org/debian}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages="$(grep -v '^#' "$here/packages.txt" | grep -v '^$' | paste -sd, -)"
work="$(mktemp -d "${TMPDIR:-/tmp}/sandbox-rootfs.XXXXXX")"
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

chroot "$work/root" /bin/sh -c '
  set -e
  groupadd --gid 1000 agent
  useradd --uid 1000 --gid 1000 --home-dir /home/agent --create-home --shell /bin/bash agent
  mkdir -p /workspace && chown agent:agent /workspace && chmod 0755 /workspace
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/log/*.log
'
# Leave out the kernel-provided folders; docker supplies them at run time.
tar --numeric-owner -C "$work/root" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
  docker import \
    --change 'USER agent' \
    --change 'WORKDIR /workspace' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/home/agent' \
    --change 'CMD ["sleep", "infinity"]' \
    --message "agents sandbox base ($suite minbase)" \
    - "$image" >/dev/null
