#!/bin/sh
# Installs what umod needs to build, test and benchmark, from Debian 12's
# packages. Idempotent: installs only what is missing. Run as root.
set -eu

packages="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
libfmt-dev nlohmann-json3-dev liblzma-dev libzstd-dev libssl-dev liblz4-dev
libgtest-dev libgmock-dev libbenchmark-dev libdw-dev kmod xz-utils zstd time bc
openssl linux-kbuild-6.1"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
