#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests, once: a no-op when /usr/bin/chromium exists.
# Called by `npm test` (pretest). Needs root and the Debian package mirror, as on every machine
# this project runs on.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing and this is not root; install the Debian package 'chromium'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
