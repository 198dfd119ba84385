#!/bin/sh
# umod run's script lines: malformed ones are errors with their line number
# (never std::terminate), quotes keep blanks, `#` ends a line, --help and
# `help` list the commands.
set -eu
umod=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/out" 2>/dev/null; exit 1; }

printf 'rmmod x --wait=abc\n!\nholders "crc\n! rmmod x --wait=-5\necho still running\n' > "$tmp/bad.umod"
status=0; "$umod" run "$tmp/bad.umod" > "$tmp/out" 2>&1 || status=$?
[ $status = 1 ] || fail "exit status $status, not 1"
grep -qxF "  error EINVAL: rmmod: --wait=abc is not a number of milliseconds (usage: rmmod [-f|--force] [-w|--wait[=MS]] MODULE)" "$tmp/out" || fail "--wait=abc"
grep -qxF "  (line 1: unexpected failure)" "$tmp/out" || fail "line 1"
grep -qxF "  error EINVAL: line 2: '!' with no command after it" "$tmp/out" || fail "a lone !"
grep -qxF "  error EINVAL: line 3: a double quote (column 9) is not closed" "$tmp/out" || fail "open quote"
grep -qxF "still running" "$tmp/out" || fail "the script stopped"
grep -qxF "3 command(s) did not meet their expectation" "$tmp/out" || fail "count"

# Quotes, escapes and comments: a parameter value with blanks reaches the module.
printf 'insmod %s/examples/modules/params.so name="two words" count=3 # a comment\nmodinfo params # and here\necho it'"'"'s fine # echo keeps quotes\ncall params params_count\n' \
	"$build" > "$tmp/good.umod"
"$umod" run "$tmp/good.umod" > "$tmp/out" 2>&1 || fail "the good script failed"
grep -qxF "> insmod $build/examples/modules/params.so name=\"two words\" count=3" "$tmp/out" || fail "echoed line"
grep -qxF "it's fine" "$tmp/out" || fail "echo"
grep -qxF "params.params_count() = 3" "$tmp/out" || fail "params"

# call: an export by its C++ name, with arguments; only MODULE's own.
printf 'insmod %s/examples/modules/thrower.so\ninsmod %s/examples/modules/crc.so\ncall thrower thrower::add 2 3\n! call crc thrower::add 1 1\n! call crc crc32 x\n' \
	"$build" "$build" > "$tmp/call.umod"
"$umod" run "$tmp/call.umod" > "$tmp/out" 2>&1 || fail "the call script failed"
grep -qxF "thrower.thrower::add(2, 3) = 5" "$tmp/out" || fail "call with a C++ name"
grep -qxF "  error ENOENT: crc does not export thrower::add" "$tmp/out" || fail "call of another module's export"
grep -qxF "  error EINVAL: call: 'x' is not a number" "$tmp/out" || fail "call with a bad argument"

"$umod" run --help > "$tmp/out" || fail "--help"
grep -q "^usage: umod run \[--control" "$tmp/out" || fail "--help usage"
grep -q "^  pause \[MS\]" "$tmp/out" || fail "--help lists pause"
printf 'help\n' | "$umod" run > "$tmp/out" || fail "help"
grep -q "^  rmmod \[-f|--force\]" "$tmp/out" || fail "help lists rmmod"
status=0; "$umod" run --bogus > "$tmp/out" 2>&1 || status=$?
[ $status = 2 ] || fail "--bogus: exit $status"
echo "umod run: script lines parsed, malformed ones reported with their line"
