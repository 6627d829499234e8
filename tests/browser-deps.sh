#!/bin/sh
# The page tests drive Debian's chromium with Thai fonts (tests/browser.py): install the two
# Debian packages when they are missing. No browser is ever downloaded by a test tool.
set -e
if command -v chromium >/dev/null 2>&1 && dpkg -s fonts-thai-tlwg >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "the page tests need Debian's chromium and fonts-thai-tlwg: sudo apt-get install chromium fonts-thai-tlwg" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium fonts-thai-tlwg >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-thai-tlwg >/dev/null; }
