#!/bin/sh
# Installs what nfqguard needs on a fresh Debian machine, then builds it. Idempotent and quick when
# everything is already there. Called by `npm test`, `npm run lab` and the benchmarks.
#   sh scripts/setup.sh        what the commands need (npm run lab)
#   sh scripts/setup.sh test   also what the tests need (chromium for the doctor's --html screenshot test)
#   NFQGUARD_SKIP_APT=1        do not touch system packages
set -e
profile="${1:-run}"
cd "$(dirname "$0")/.."

need_pkgs=""
have() { command -v "$1" >/dev/null 2>&1; }
have iptables || need_pkgs="$need_pkgs iptables"
have nft || need_pkgs="$need_pkgs nftables"
have ip || need_pkgs="$need_pkgs iproute2"
have curl || need_pkgs="$need_pkgs curl"
have conntrack || need_pkgs="$need_pkgs conntrack"
[ -f /usr/include/libnetfilter_queue/libnetfilter_queue.h ] || need_pkgs="$need_pkgs libnetfilter-queue-dev"
have make || need_pkgs="$need_pkgs make"
have g++ || need_pkgs="$need_pkgs g++"
have python3 || need_pkgs="$need_pkgs python3"
have setpriv || need_pkgs="$need_pkgs util-linux"
if [ "$profile" = "test" ]; then
  have chromium || have chromium-browser || need_pkgs="$need_pkgs chromium"
fi

if [ -n "$need_pkgs" ] && [ "${NFQGUARD_SKIP_APT:-0}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && have apt-get; then
    echo "setup: installing$need_pkgs" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
  else
    echo "setup: missing$need_pkgs; install them (as root: apt-get install$need_pkgs)" >&2
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-fund --no-audit >/dev/null
fi

sh scripts/build-native.sh
npx tsc -p tsconfig.json
