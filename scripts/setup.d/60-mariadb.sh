#!/usr/bin/env bash
# Debian's MariaDB server for the tessera AWS-backend test (core/tlog
# TestAWSBackend starts its own mariadbd in a temp directory on loopback;
# no system service is used). Idempotent: does nothing when installed.
set -euo pipefail
if [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
/usr/sbin/mariadbd --version >&2
