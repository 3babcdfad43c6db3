#!/bin/sh
# Install Debian's chromium for the browser test, once. Idempotent: does nothing when a
# Chromium is already on PATH. Never fails the build: without Chromium the test skips.
set -u
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: no apt-get here; the browser test will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install_chromium: not root and no sudo; the browser test will be skipped" >&2
    exit 0
fi
echo "install_chromium: installing Debian's chromium (one time)" >&2
if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; then
    exit 0
fi
echo "install_chromium: could not install chromium; the browser test will be skipped" >&2
exit 0
