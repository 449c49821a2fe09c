#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu: system packages for Jupyter (nbconvert + nbclient for headless
# runs, the classic notebook front end for `npm run notebook`) and Chromium (browser checks), then
# the npm dependencies from the lockfile.
# Needs root (or sudo) for apt-get. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
need=()
command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1 || need+=(jupyter-nbconvert python3-nbclient)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v jupyter-notebook >/dev/null 2>&1 || need+=(jupyter-notebook)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The native TensorFlow engine (optional dependency `tfjs-node-native`) downloads libtensorflow in
# its install script; without internet that fails and npm skips it: the lib then uses wasm.
npm ci --no-audit --no-fund
