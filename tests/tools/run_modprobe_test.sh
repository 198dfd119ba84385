#!/bin/sh
# umod run over a module tree: `umod depmod --umod` indexes copies of the
# example modules; modprobe loads dependencies first, modprobe -r takes unused
# ones away, and a module's symbol_request loads its provider via symbol:NAME.
set -eu
umod=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib/modules/1.0/kernel"
for m in crc net lazy; do cp "$build/examples/modules/$m.so" "$tmp/lib/modules/1.0/kernel/"; done
"$umod" depmod --umod -b "$tmp" 1.0
cat > "$tmp/script.umod" <<SCRIPT
modtree $tmp/lib/modules/1.0
modprobe net
lsmod
! rmmod crc
modprobe -r net
lsmod
modprobe lazy
call lazy lazy_crc
lsmod
! modprobe nothing
modprobe -r lazy
modprobe -r crc
lsmod
SCRIPT
"$umod" run "$tmp/script.umod" > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "modprobe script failed"; exit 1; }
sed -e "s|$tmp|TREE|g" -e 's/^\([a-z_0-9]*\) *[0-9][0-9]*  /\1 SIZE  /' "$tmp/out" > "$tmp/normal"
cat > "$tmp/expected" <<'GOLDEN'
> modtree TREE/lib/modules/1.0
> modprobe net
> lsmod
Module                  Size  Used by
net SIZE  0
crc SIZE  1 net
!> rmmod crc
  error EAGAIN: crc is in use: module net (static 1, dynamic 0)
> modprobe -r net
  net unloaded, code unmapped
  crc unloaded, code unmapped
> lsmod
Module                  Size  Used by
> modprobe lazy
> call lazy lazy_crc
lazy.lazy_crc() = 32
> lsmod
Module                  Size  Used by
crc SIZE  0
lazy SIZE  0
!> modprobe nothing
  error ENOENT: module nothing not found in TREE/lib/modules/1.0
> modprobe -r lazy
  lazy unloaded, code unmapped
> modprobe -r crc
  crc unloaded, code unmapped
> lsmod
Module                  Size  Used by
GOLDEN
diff -u "$tmp/expected" "$tmp/normal"
echo "umod run: modprobe through a module tree as expected"
