#!/bin/sh
# umod modinfo --pid PID NAME: a live host's module with its parameter values
# now, as /sys/module/NAME/parameters shows them (text), typed in --json;
# a value the module changed itself shows changed.
# usage: modinfo_pid_test.sh UMOD BUILD_DIR CXX_MODULE_DIR
set -eu
umod=$1 build=$2 cxx_modules=$3
mods=$build/examples/modules
. "$(dirname "$0")/../tools/live_host.sh"

cat > "$tmp/host.umod" <<SCRIPT
insmod $mods/params.so count=5 name="two words" verbose=1
insmod $cxx_modules/storage.so prefix=p:
insmod $mods/crc.so
pause
SCRIPT
start_host --control=read "$tmp/host.umod"
paused 1

"$umod" modinfo --pid "$host" params > "$tmp/params" || fail "modinfo --pid params"
for want in "name:           params" "parameter:      count=5 (int)" "parameter:      name=two words (charp)" \
	"parameter:      verbose=Y (bool)" "parameter:      limit=10 (ulong)"; do
	grep -qxF "$want" "$tmp/params" || { cat "$tmp/params"; fail "no line '$want'"; }
done
# module_param_named from C++: the parameter's name, not its variable's.
"$umod" modinfo --pid "$host" storage | grep -qxF "parameter:      prefix=p: (charp)" || fail "storage's prefix"
# A module without parameters lists none.
"$umod" modinfo --pid "$host" crc > "$tmp/crc" || fail "modinfo --pid crc"
grep -q "^parameter:" "$tmp/crc" && fail "crc lists parameters"

"$umod" modinfo --pid "$host" params --json > "$tmp/params.json" || fail "modinfo --json"
jq -e '[.parameters[] | {(.name): .value}] | add == {"count": 5, "name": "two words", "verbose": true, "limit": 10}' \
	"$tmp/params.json" >/dev/null || { cat "$tmp/params.json"; fail "typed values in --json"; }
jq -e '(.parameters[] | select(.name == "count")) | .type == "int" and .text == "5" and .description == "how many"' \
	"$tmp/params.json" >/dev/null || fail "count in --json"
jq -e '.name == "params" and (.exports | length) == 3' "$tmp/params.json" >/dev/null || fail "the old fields"
"$umod" modinfo --pid "$host" crc --json | jq -e 'has("parameters") | not' >/dev/null || fail "crc's json"

"$umod" modinfo --pid "$host" nosuch > "$tmp/out" 2>&1 && fail "nosuch listed"
grep -q "module nosuch is not loaded" "$tmp/out" || { cat "$tmp/out"; fail "nosuch error"; }

kill -USR1 "$host"
wait "$host" || fail "the host script failed"
host=
echo "umod modinfo --pid: parameter values of a live host"
