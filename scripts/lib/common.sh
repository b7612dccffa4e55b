# Sourced by scripts/*.sh: the project root, and installing missing Debian packages.

ANYBIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ANYBIT_JOBS=${ANYBIT_JOBS:-$(nproc 2>/dev/null || echo 2)}

# require_packages PKG...: installs the missing ones as root; otherwise says what to install
# and exits 1.
require_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "anybit: this script installs Debian/Ubuntu packages; on another system install the" >&2
    echo "equivalents of: $*" >&2
    exit 1
  fi
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "anybit: missing packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "anybit: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
