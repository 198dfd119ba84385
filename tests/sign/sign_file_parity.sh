#!/bin/sh
# umod sign against the kernel's scripts/sign-file (Debian's linux-kbuild-6.1):
# the same bytes for RSA keys, on umod's example modules (every hash, PEM and
# DER certificates, -d and -p) and on real .ko files of the cloud tree; ECDSA
# signatures (not deterministic) verified both ways; modinfo of a signed .so
# as kmod's modinfo prints it.
# Usage: sign_file_parity.sh UMOD SRC BUILD
set -eu
umod=$1; src=$2; build=$3
. "$src/tests/tools/lib.sh"
sign_file=${SIGN_FILE:-/usr/lib/linux-kbuild-6.1/scripts/sign-file}
[ -x "$sign_file" ] || missing_reference "no $sign_file (apt-get install linux-kbuild-6.1)"
need_command modinfo
keys=$src/tests/sign/keys
tmp=$(mktemp -d "${TMPDIR:-/tmp}/umod-sign-parity.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
compared=0

# same HASH KEY CERT FILE: sign-file and umod sign give the same file.
same() {
	cp "$4" "$tmp/a"; cp "$4" "$tmp/b"
	"$sign_file" "$1" "$2" "$3" "$tmp/a" 2> "$tmp/err" || fail "sign-file $1 $2 $3 $4: $(cat "$tmp/err")"
	"$umod" sign "$1" "$2" "$3" "$tmp/b" || fail "umod sign $1 $2 $3 $4 exited $?"
	cmp -s "$tmp/a" "$tmp/b" || fail "umod sign $1 $(basename "$2") $(basename "$3") $4 differs from sign-file"
	compared=$((compared + 1))
}

modules=$(ls "$build"/examples/modules/*.so)
[ -n "$modules" ] || fail "no example modules in $build/examples/modules"
for m in $modules; do
	for hash in sha256 sha384 sha512; do same $hash "$keys/rsa.key" "$keys/rsa.crt" "$m"; done
	same sha256 "$keys/rsa.key" "$keys/rsa.der" "$m"
done

# DEST, -p and -d.
m=$(echo "$modules" | head -n 1)
cp "$m" "$tmp/in.so"
"$sign_file" sha256 "$keys/rsa.key" "$keys/rsa.crt" "$tmp/in.so" "$tmp/kernel.so"
"$umod" sign sha256 "$keys/rsa.key" "$keys/rsa.crt" "$tmp/in.so" "$tmp/umod.so"
cmp -s "$tmp/kernel.so" "$tmp/umod.so" || fail "umod sign with DEST differs from sign-file"
cmp -s "$m" "$tmp/in.so" || fail "umod sign with DEST changed its input"
"$sign_file" -d sha512 "$keys/rsa.key" "$keys/rsa.crt" "$tmp/in.so"; mv "$tmp/in.so.p7s" "$tmp/kernel.p7s"
"$umod" sign -d sha512 "$keys/rsa.key" "$keys/rsa.crt" "$tmp/in.so"
cmp -s "$tmp/kernel.p7s" "$tmp/in.so.p7s" || fail "umod sign -d differs from sign-file -d"
cmp -s "$m" "$tmp/in.so" || fail "umod sign -d changed the module"
"$umod" sign -p sha256 "$keys/rsa.key" "$keys/rsa.crt" "$tmp/in.so" "$tmp/p.so"
cmp -s "$tmp/p.so" "$tmp/kernel.so" || fail "umod sign -p: the module differs"
[ -s "$tmp/in.so.p7s" ] || fail "umod sign -p wrote no .p7s"

# ECDSA: each tool's signature verifies with umod.
cp "$m" "$tmp/ec-kernel.so"; cp "$m" "$tmp/ec-umod.so"
"$sign_file" sha384 "$keys/ec.key" "$keys/ec.crt" "$tmp/ec-kernel.so"
"$umod" sign sha384 "$keys/ec.key" "$keys/ec.crt" "$tmp/ec-umod.so"
"$umod" verify -k "$keys/ec.crt" "$tmp/ec-kernel.so" "$tmp/ec-umod.so" > "$tmp/ec.out" ||
	fail "ECDSA signatures do not verify: $(cat "$tmp/ec.out")"

# Errors, with their exit status.
if "$umod" sign sha256 "pkcs11:token=x" "$keys/rsa.crt" "$tmp/in.so" 2> "$tmp/err"; then fail "a PKCS#11 key was accepted"; fi
grep -q "PKCS#11 keys are not supported" "$tmp/err" || fail "PKCS#11: $(cat "$tmp/err")"
set +e; "$umod" sign sha256 "$keys/rsa.key" 2> /dev/null; st=$?; set -e
[ $st = 2 ] || fail "umod sign with too few arguments exited $st, expected 2"

# modinfo of a signed .so: as kmod's modinfo prints it (kmod opens only
# files named .ko, so the .so goes by that name).
cd "$tmp"
cp kernel.so signed.ko
modinfo "$tmp/signed.ko" > kmod.modinfo 2>&1 || fail "kmod's modinfo on a signed .so: $(cat kmod.modinfo)"
"$umod" modinfo "$tmp/signed.ko" > umod.modinfo 2>&1 || fail "umod modinfo on a signed .so: $(cat umod.modinfo)"
diff kmod.modinfo umod.modinfo > /dev/null || fail "modinfo of a signed .so differs from kmod's: $(diff kmod.modinfo umod.modinfo | head)"
grep -q "^signer: *umod test signing key$" umod.modinfo || fail "modinfo shows no signer: $(cat umod.modinfo)"
grep -q "^sig_hashalgo: *sha256$" umod.modinfo || fail "modinfo shows no sig_hashalgo"
cd - > /dev/null
echo "sign: $compared umod modules byte-identical to sign-file; -d, -p, DEST, ECDSA, modinfo agree"

# Real .ko files (already signed by Debian: both tools sign the whole file again).
need_cloud_tree "$src"
kos=$(find "$tree/lib/modules" -name '*.ko' | sort | awk 'NR % 5 == 1')
n=0
for ko in $kos; do
	same sha256 "$keys/rsa.key" "$keys/rsa.crt" "$ko"
	n=$((n + 1))
done
at_least "$n" 200 ".ko files signed"
echo "sign: $n real .ko files byte-identical to sign-file"
