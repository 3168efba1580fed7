# Shared by scripts/test, scripts/cluster-up and benchmarks/: installs what is missing, builds.
# Source it; it defines ROOT, BUILD and the functions below.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${TROUPE_BUILD_DIR:-$ROOT/build}"

# Debian packages: to build, then what the tests and benchmarks drive the server with.
BUILD_PACKAGES="cmake make g++ libcaf-dev liblz4-dev libfmt-dev libboost-test-dev libjemalloc-dev"
TEST_PACKAGES="redis-server redis-tools python3-redis lz4"

ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "troupe: installing missing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "troupe: these packages are missing and I am not root: ${missing[*]}" >&2
      echo "troupe: run as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || true
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # redis-server's package may start a system instance on 6379; we start our own servers.
  if [[ " ${missing[*]} " == *" redis-server "* ]]; then
    $sudo systemctl stop redis-server >/dev/null 2>&1 || true
    $sudo systemctl disable redis-server >/dev/null 2>&1 || true
  fi
}

# Node.js and npm, for the ioredis / node-redis cluster tests. Debian 12 ships them as `nodejs` and
# `npm`; a machine with NodeSource's `nodejs` already has npm inside it (and that package conflicts
# with Debian's `npm`), so only install when either command is missing.
ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then return 0; fi
  ensure_packages nodejs npm
}

build_troupe() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="${TROUPE_BUILD_TYPE:-Release}" >/dev/null
  if ! cmake --build "$BUILD" -j "$jobs" >"$BUILD/build.log" 2>&1; then
    cat "$BUILD/build.log"
    echo "troupe: the build failed (log above, also in $BUILD/build.log)" >&2
    exit 1
  fi
  echo "troupe: built $BUILD/troupe-server"
}
