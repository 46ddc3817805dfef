#!/bin/sh
# Build the native addon (native/, node-gyp). Incremental: configure only once per checkout.
# npm puts its bundled node-gyp on PATH for scripts; fall back to npx for direct calls.
set -e
cd "$(dirname "$0")/.."
GYP=node-gyp
command -v node-gyp >/dev/null 2>&1 || GYP="npx --yes node-gyp@12"
[ -f build/Makefile ] || $GYP configure --loglevel=warn >/dev/null
$GYP build --loglevel=warn >/dev/null
