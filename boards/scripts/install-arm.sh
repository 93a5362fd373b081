#!/usr/bin/env bash
# boards/scripts/install-arm.sh: installs the Debian packages the Cortex-M image needs
# (arm-none-eabi-gcc, newlib, qemu-system-arm), without recommends. Idempotent: when every package is
# already installed it does nothing (no apt-get update). Needs root (or sudo without a password).
#
#   bash boards/scripts/install-arm.sh [--quiet]
set -euo pipefail
PKGS=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)
quiet=0; [[ "${1:-}" == "--quiet" ]] && quiet=1
say() { [[ $quiet == 1 ]] || echo "install-arm: $*" >&2; }

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then missing+=("$p"); fi
done
if [[ ${#missing[@]} -eq 0 ]]; then say "already installed: ${PKGS[*]}"; exit 0; fi

if ! command -v apt-get >/dev/null; then
  echo "install-arm: apt-get not found; install ${missing[*]} by hand (Debian/Ubuntu package names)" >&2; exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    echo "install-arm: need root to install ${missing[*]}" >&2; exit 1; fi
fi
say "installing ${missing[*]} (--no-install-recommends)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for t in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
  command -v "$t" >/dev/null || { echo "install-arm: $t missing after install" >&2; exit 1; }
done
say "installed ${missing[*]}"
