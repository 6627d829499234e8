#!/bin/sh
# The page tests drive Debian's chromium with Thai fonts (tests/browser.py), the spreadsheet tests
# re-save exports with LibreOffice as an officer's office program would, and the tiles' oracle is Go's
# golang.org/x/mod/sumdb/tlog (tests/oracles/tiles.go): install the Debian packages when they are
# missing. No browser, office suite or Go module is ever downloaded by a test tool.
set -e
PACKAGES="chromium fonts-thai-tlwg libreoffice-calc-nogui golang-go golang-golang-x-mod-dev"
if command -v chromium >/dev/null 2>&1 && dpkg -s fonts-thai-tlwg >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1 \
  && command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "the tests need Debian's $PACKAGES: sudo apt-get install $PACKAGES" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $PACKAGES >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null && apt-get install -y -q $PACKAGES >/dev/null; }
