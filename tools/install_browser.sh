#!/usr/bin/env bash
# Installs what the browser tests (tests/test_site.py) need from Debian's packages:
#   chromium        /usr/bin/chromium, driven by Playwright for Python (no browser download: it fails offline)
#   fonts-noto-cjk  a real CJK font, so the Chinese chapters render with glyphs, not tofu
# Does nothing when both are there. Installs with apt-get when run as root; otherwise says what to install
# and exits 1.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed"; then
    missing+=(fonts-noto-cjk)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "tools/install_browser.sh: missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root, then rerun: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y --no-install-recommends "${missing[@]}"
}
# Refresh the package lists only when they are absent or the install can't find the packages with them.
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || ! apt_install; then
    apt-get update
    apt_install
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "tools/install_browser.sh: /usr/bin/chromium is still missing after apt-get install" >&2
    exit 1
fi
