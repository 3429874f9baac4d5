#!/usr/bin/env bash
# The base of the compose deployment's own images (platform, Temporal server, PostgreSQL), built without a registry:
# a Debian minbase rootfs from debootstrap with the runtime packages of base-packages.txt, PostgreSQL 15 from Debian's
# packages (no cluster created, no service started), a user `node` (uid 1000), then `docker import`.
# Usage: base-rootfs.sh <image:tag> <suite> <mirror>
set -euo pipefail
image="$1" suite="${2:-bookworm}" mirror="${3:-http://deb.debian.org/debian}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages="$(grep -v '^#' "$here/base-packages.txt" | grep -v '^$' | paste -sd, -)"
work="$(mktemp -d "${TMPDIR:-/tmp}/base-rootfs.XXXXXX")"
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# PostgreSQL in a second step: its maintainer scripts would otherwise create and start a cluster inside the chroot.
cp /etc/resolv.conf "$work/root/etc/resolv.conf"
chroot "$work/root" /bin/sh -c '
  set -e
  printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
  rm -f /usr/sbin/policy-rc.d
  groupadd --gid 1000 node
  useradd --uid 1000 --gid 1000 --home-dir /home/node --create-home --shell /bin/bash node
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/log/*.log
' >"$work/chroot.log" 2>&1 || { tail -20 "$work/chroot.log" >&2; exit 1; }
: >"$work/root/etc/resolv.conf"
tar --numeric-owner -C "$work/root" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    --message "temporal-agents base ($suite minbase + runtime packages)" \
    - "$image" >/dev/null
