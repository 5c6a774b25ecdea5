#!/bin/sh
# Debian packages the tests use: Chromium for the browser tests, PostgreSQL for the database
# suite on a real server. Installed only when missing; needs root (apt-get).
set -eu
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$need — install them as root: apt-get install -y$need" >&2
  exit 1
fi
echo "› installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $need >/dev/null
