#!/bin/sh
# Runs every test. The web console's browser tests need Chromium: when
# /usr/bin/chromium is missing, Debian's chromium package is installed
# first (as root, as CI runs; otherwise through sudo). In CI (CI=true) a
# browser test fails rather than skips when Chromium is absent.
set -eu
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
	echo "test.sh: /usr/bin/chromium is missing; installing Debian's chromium" >&2
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
	else
		sudo apt-get update
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
	fi
fi
exec go test "$@" ./...
