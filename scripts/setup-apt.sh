#!/usr/bin/env bash
# Installs the Debian packages the real test peers need (qemu-ga, QEMU, ...), only those missing.
# Package list: scripts/apt-packages.txt (one per line, '#' comments). Needs root (or sudo).
#
# Two kinds of lines besides plain names:
#   NAME:ARCH          a package of another architecture (the arm64 libraries): dpkg learns ARCH first.
#   unpack NAME:ARCH   downloaded and unpacked under /opt/guestlink-lab/ARCH/ (GUESTLINK_LAB_DIR moves it, for
#                      the VM harness too: test/e2e/vm/arch.ts), not installed, with one
#                      level of its dependencies (so a metapackage brings its real package): the aarch64
#                      VM's kernel and busybox. Installed, the arm64 kernel would sit in /boot beside the
#                      amd64 one, where tools that take the newest /boot/vmlinuz-* (the amd64 VM harness
#                      of older checkouts) would pick it; and busybox-static:arm64 cannot be installed
#                      beside busybox-static:amd64 (one package name, Multi-Arch: no).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LAB=${GUESTLINK_LAB_DIR:-/opt/guestlink-lab}
mapfile -t lines < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$here/apt-packages.txt")
wanted=()
unpack=()
for l in "${lines[@]}"; do
  case "$l" in
    unpack\ *) unpack+=("${l#unpack }") ;;
    *) wanted+=("$l") ;;
  esac
done
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# An unpacked package is done once its name is in the stamp of its architecture's directory.
to_unpack=()
for p in "${unpack[@]}"; do
  arch=${p##*:}
  grep -qx "${p%%:*}=.*" "$LAB/$arch/.unpacked" 2>/dev/null || to_unpack+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ ${#to_unpack[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Foreign architectures must be known to dpkg before apt-get update fetches their lists.
for arch in $(printf '%s\n' "${missing[@]}" "${to_unpack[@]}" | sed -n 's/^[^:]*:\([a-z0-9]*\)$/\1/p' | sort -u); do
  if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "adding the dpkg architecture $arch" >&2
    $SUDO dpkg --add-architecture "$arch"
  fi
done
$SUDO apt-get update -qq >&2
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
for p in "${to_unpack[@]}"; do
  arch=${p##*:}
  dest="$LAB/$arch"
  work=$(mktemp -d)
  # apt downloads as the _apt user when run as root: let it write here (else it warns and downloads unsandboxed).
  if [ "$(id -u)" -eq 0 ]; then chown _apt "$work" 2>/dev/null || true; fi
  # The package and its direct Depends of the same architecture (a metapackage's real package).
  deps=$(apt-cache depends --no-pre-depends --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$p" | sed -n "s/^ *Depends: \([^<>|]*:$arch\)\$/\1/p")
  echo "unpacking into $dest: $p $deps" >&2
  (cd "$work" && apt-get download -qq "$p" $deps >&2)
  $SUDO mkdir -p "$dest"
  for deb in "$work"/*.deb; do
    $SUDO dpkg-deb -x "$deb" "$dest"
    echo "$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)" | $SUDO tee -a "$dest/.unpacked" >/dev/null
  done
  rm -rf "$work"
  # modules.dep is made by the kernel package's postinst, which unpacking does not run.
  for k in "$dest"/lib/modules/*/; do
    [ -d "$k" ] && $SUDO depmod -b "$dest" "$(basename "$k")"
  done
done
