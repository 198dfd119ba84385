#!/bin/sh
# sig.verify_all_vs_openssl (recorded): `umod verify` of all 4,022 modules of
# Debian's generic 6.1 tree in one process, against the key built into the
# tree's own vmlinuz ÷ one `openssl cms -verify` process per module (the
# signature and the content split out beforehand, untimed), timed on every
# 8th module and scaled to all (4,022 processes took 20 minutes on the shared
# machine). Every module must verify with umod, every sampled one with
# openssl. Warm cache; one timed run each.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/tool_goals.sh"
generic_tree "sig.verify_all_vs_openssl -"
vmlinuz=$tree/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || fail_goals "no $vmlinuz"
command -v openssl > /dev/null || fail_goals "openssl(1) is not installed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
find "$tree/lib/modules" -name '*.ko' | sort > "$work/list"
count=$(grep -c . "$work/list")
[ "$count" -gt 0 ] || fail_goals "no .ko files in $tree"
# The work, which also warms the cache: every module verifies.
# shellcheck disable=SC2046
"$umod" verify --keyring-from-kernel "$vmlinuz" --extract-certs "$work/keys.der" $(cat "$work/list") > "$work/u.out" ||
	fail_goals "umod verify exited $? ($(grep -vc ': OK: ' "$work/u.out") modules failed)"
[ "$(grep -c ': OK: ' "$work/u.out")" = "$count" ] || fail_goals "umod verify: not $count OK lines"
openssl x509 -inform DER -in "$work/keys.der" -out "$work/keys.pem" 2> /dev/null || fail_goals "openssl x509 on the extracted key"
# Each module as openssl needs it: content and signature in two files.
i=0
awk 'NR % 8 == 1' "$work/list" > "$work/sample"
sampled=$(grep -c . "$work/sample")
while read -r ko; do
	i=$((i + 1))
	size=$(stat -c %s "$ko")
	siglen=$(tail -c 32 "$ko" | head -c 4 | od -An -tu1 | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
	body=$((size - 40 - siglen))
	head -c "$body" "$ko" > "$work/$i.bin"
	tail -c $((siglen + 40)) "$ko" | head -c "$siglen" > "$work/$i.p7s"
done < "$work/sample"
openssl_all() {
	n=1
	while [ $n -le "$sampled" ]; do
		openssl cms -verify -binary -inform DER -in "$work/$n.p7s" -content "$work/$n.bin" -certfile "$work/keys.pem" \
			-nointern -noverify -out /dev/null 2> /dev/null || return 1
		n=$((n + 1))
	done
}
t0=$(now); "$umod" verify --keyring-from-kernel "$vmlinuz" $(cat "$work/list") > /dev/null || fail_goals "umod verify (timed) failed"
t1=$(now); openssl_all || fail_goals "openssl (timed) failed"; t2=$(now)
u=$(echo "$t1 - $t0" | bc); o=$(echo "scale=3; ($t2 - $t1) * $count / $sampled" | bc)
echo "sign: umod verify $u s for $count modules; openssl cms -verify $o s (scaled from $sampled)" >&2
echo "GOAL sig.verify_all_vs_openssl $(echo "scale=3; $u / $o" | bc) - RECORD"
