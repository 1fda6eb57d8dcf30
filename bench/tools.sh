#!/bin/sh
# What `make bench` drives the shop with, installed when missing: wrk (Debian's package),
# Debian's chromium (.ci/chromium) and Lighthouse 12.2.3 from npm into .bench/ (git-ignored).
# Says what to install by hand when this machine does not let us.
set -e
LIGHTHOUSE_DIR=.bench/lighthouse
SUDO=none
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi

apt_install() {    # apt_install PACKAGE...: 0 when installed
  command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != none ] || return 1
  echo "Installing $* for make bench (apt-get install $*) ..."
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

command -v wrk >/dev/null 2>&1 || apt_install wrk || {
  echo "make bench needs wrk: install it (Debian: apt-get install wrk) and run make bench again." >&2
  exit 1; }
./.ci/chromium
if [ ! -x "$LIGHTHOUSE_DIR/node_modules/.bin/lighthouse" ]; then
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm || {
    echo "make bench needs npm for Lighthouse: install Node.js and npm, then run make bench again." >&2
    exit 1; }
  echo "Installing Lighthouse 12.2.3 into $LIGHTHOUSE_DIR (npm) ..."
  npm install --silent --no-audit --no-fund --prefix "$LIGHTHOUSE_DIR" lighthouse@12.2.3
fi
