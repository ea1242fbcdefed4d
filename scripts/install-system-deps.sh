#!/usr/bin/env bash
# Installs the Debian packages skiff needs (runtime, networking, etcd, images), only those missing.
# Idempotent: a second run installs nothing. Used by the README quick start and by .ci/run.
set -euo pipefail

packages=(
  runc nftables iptables iproute2 containernetworking-plugins
  etcd-server etcd-client busybox-static skopeo umoci conntrack
  dnsutils curl ca-certificates
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: not root; skipping system packages (native tests will skip)" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# etcd-server's postinst starts a system etcd on :2379; skiff starts its own, so keep services from starting.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-system-deps: installed ${missing[*]}"
