#!/usr/bin/env bash
# Installs Debian's nats-server (JetStream) for the fleet tests and `npm run demo:fleet`.
# Fast when it is present. The fleet needs nats-server 2.9.4 or later (docs/fleet.md);
# Debian bookworm ships 2.9.10.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1; then
  echo "[fleet] $(nats-server --version) present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "[fleet] error: nats-server is missing and installing it needs root: apt-get install nats-server" >&2
  exit 2
fi
echo "[fleet] installing nats-server"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends nats-server
nats-server --version
