#!/usr/bin/env bash
# Makes sure /usr/bin/chromium exists for the dashboard tests (Playwright drives it; `playwright install` cannot work
# without internet). Installs the Debian package when missing; prints why when it cannot.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
echo "== installing chromium for the dashboard tests (apt-get)"
if $sudo apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null 2>&1 \
   && [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "== could not install chromium (needs root or passwordless sudo, and the Debian mirror); the dashboard tests will fail and say so"
exit 1
