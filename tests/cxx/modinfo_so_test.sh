#!/bin/sh
# umod modinfo PATH.so: a umod module file is listed as modinfo lists a .ko
# (the same file renamed .ko gives the same fields), read through the public
# metadata reader; a file that is not a umod module is an error naming it.
# usage: modinfo_so_test.sh UMOD MODULE_DIR LOADER_MODULE_DIR
set -u
umod=$1 modules=$2 loader_modules=$3
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

for m in storage everything overloads; do
	cp "$modules/$m.so" "$tmp/$m.so" && cp "$modules/$m.so" "$tmp/$m.ko"
	for option in "" -p "-F license" "-F parmtype" -0 -a; do
		# shellcheck disable=SC2086
		"$umod" modinfo $option "$tmp/$m.so" > "$tmp/so.out" 2>&1 || fail "$m.so $option: exit $?"
		# shellcheck disable=SC2086
		"$umod" modinfo $option "$tmp/$m.ko" > "$tmp/ko.out" 2>&1
		sed "s|$tmp/$m.ko|$tmp/$m.so|" "$tmp/ko.out" | cmp -s - "$tmp/so.out" ||
			{ fail "$m.so $option differs from $m.ko"; diff "$tmp/ko.out" "$tmp/so.out" | head -5; }
	done
done

"$umod" modinfo "$tmp/everything.so" > "$tmp/out" || fail "everything.so"
grep -qx "filename:       $tmp/everything.so" "$tmp/out" || fail "filename line"
grep -qx "version:        1.2.3" "$tmp/out" || fail "version line"
grep -qx "parm:           verbosity:an int under another name than its variable (int)" "$tmp/out" || fail "parm line"
[ "$("$umod" modinfo -F version "$tmp/everything.so")" = 1.2.3 ] || fail "-F version"
(cd "$tmp" && "$umod" modinfo -F filename everything.so) | grep -qx "$tmp/everything.so" || fail "relative path"

"$umod" modinfo "$loader_modules/plain.so" > "$tmp/out" 2>&1 && fail "plain.so listed"
grep -q "^modinfo: ERROR: could not get modinfo from 'plain': Exec format error (.*plain.so: not a umod module" "$tmp/out" ||
	{ fail "plain.so error"; cat "$tmp/out"; }
echo junk > "$tmp/junk.so"
"$umod" modinfo "$tmp/junk.so" > "$tmp/out" 2>&1 && fail "junk.so listed"
grep -q "could not get modinfo from 'junk': Exec format error" "$tmp/out" || { fail "junk.so error"; cat "$tmp/out"; }
# A name that is not a file is still looked up in the module tree.
"$umod" modinfo -b "$tmp" -k 0.0 nosuch.so > "$tmp/out" 2>&1 && fail "nosuch.so listed"

[ $status = 0 ] && echo "umod modinfo PATH.so: as for a .ko"
exit $status
