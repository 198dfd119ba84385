#!/bin/sh
# Live hosts end to end: a `umod run --control` host with modules and a
# named holder, inspected and managed from outside with `umod CMD -p PID`;
# another uid is refused; a host without --control has no socket.
set -eu
umod=$1
build=$2
src=${3:-}
mods=$build/examples/modules
. "$(dirname "$0")/live_host.sh"

cat > "$tmp/host.umod" <<SCRIPT
insmod $mods/crc.so
insmod $mods/net.so
get crc16 ui          # a part of the host holds crc16
pause
get crc16 ui
pause
put crc16 ui
put crc16 ui
pause
SCRIPT
start_host --control "$tmp/host.umod"
paused 1
[ -S "$UMOD_CONTROL_DIR/$host.sock" ] || fail "no socket $UMOD_CONTROL_DIR/$host.sock"
[ "$(stat -c %a "$UMOD_CONTROL_DIR")" = 700 ] || fail "the socket directory is not owner-only"

# umod ps lists it.
"$umod" ps > "$tmp/ps"
grep -Eq "^ *$host  umod +2  manage\$" "$tmp/ps" || { cat "$tmp/ps"; fail "umod ps"; }

# lsmod and holders as lsmod and the holders view print them.
"$umod" lsmod -p "$host" > "$tmp/lsmod"
cat > "$tmp/lsmod.want" <<EXPECTED
Module                  Size  Used by
net                    SIZE  0
crc                    SIZE  2 net +dynamic ui
EXPECTED
sed -E 's/^([a-z]+) +[0-9]+/\1                    SIZE/; s/^(.{23})SIZE/\1SIZE/' "$tmp/lsmod" |
	awk '{ if ($2 == "SIZE") printf "%-23sSIZE  %s\n", $1, substr($0, index($0, "SIZE") + 6); else print }' > "$tmp/lsmod.norm"
diff -u "$tmp/lsmod.want" "$tmp/lsmod.norm" || fail "lsmod -p"
"$umod" holders -p "$host" crc > "$tmp/holders"
grep -q "ui .*holder .*static 0  dynamic 1  (crc16 x1)" "$tmp/holders" || { cat "$tmp/holders"; fail "holders -p"; }
"$umod" lsmod --json -p "$host" | jq -e '.modules[1].name == "crc" and .modules[1].dynamic_users == ["ui"]' >/dev/null ||
	fail "lsmod --json"
"$umod" graph -p "$host" --json | jq -e '.modules | length == 2' >/dev/null || fail "graph --json"
"$umod" graph -p "$host" --dot | grep -q '^digraph' || fail "graph --dot"

# Bash completion offers the live host's module names.
if [ -n "$src" ] && command -v bash > /dev/null; then
	offered=$(PATH="$(dirname "$umod"):$PATH" bash -c ". '$src/tools/umod/completion/umod.bash'
		COMP_WORDS=(umod rmmod -p $host ''); COMP_CWORD=4; _umod; echo \${COMPREPLY[*]}")
	for m in crc net; do
		case " $offered " in *" $m "*) ;; *) fail "completion did not offer $m: $offered";; esac
	done
fi

# The refusal names the holders.
if "$umod" rmmod -p "$host" crc 2> "$tmp/rmmod.err"; then fail "rmmod -p crc succeeded while held"; fi
grep -qF "umod rmmod: error EAGAIN: crc is in use: holder ui (static 0, dynamic 1: crc16 x1); module net (static 1, dynamic 0)" \
	"$tmp/rmmod.err" || { cat "$tmp/rmmod.err"; fail "rmmod refusal"; }

# monitor sees the host's next get.
"$umod" monitor -p "$host" -n 1 > "$tmp/monitor" 2> "$tmp/monitor.err" &
monitor=$!
i=0; until grep -q watching "$tmp/monitor.err"; do i=$((i + 1)); [ $i -lt 200 ] || fail "monitor"; sleep 0.05; done
kill -USR1 "$host"
paused 2
wait "$monitor" || fail "monitor exit status"
[ "$(cat "$tmp/monitor")" = "get ui crc:crc16" ] || { cat "$tmp/monitor"; fail "monitor -p saw no get"; }

# Another uid: refused by the directory, and by the host's credentials check
# when the directory lets it through.
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
	if setpriv --reuid=65534 --regid=65534 --clear-groups "$umod" lsmod --host "$UMOD_CONTROL_DIR/$host.sock" \
		> "$tmp/nobody.out" 2>&1; then fail "nobody read the host"; fi
	grep -q "Permission denied" "$tmp/nobody.out" || { cat "$tmp/nobody.out"; fail "nobody: directory"; }
	chmod 711 "$tmp" "$UMOD_CONTROL_DIR"; chmod 666 "$UMOD_CONTROL_DIR/$host.sock"
	if setpriv --reuid=65534 --regid=65534 --clear-groups "$umod" lsmod --host "$UMOD_CONTROL_DIR/$host.sock" \
		> "$tmp/nobody.out" 2>&1; then fail "nobody read the host"; fi
	grep -qF "umod lsmod: error EACCES: refused: uid 65534 may not connect to this host (only uid 0 and root may)" \
		"$tmp/nobody.out" || { cat "$tmp/nobody.out"; fail "nobody: credentials"; }
	chmod 700 "$tmp" "$UMOD_CONTROL_DIR"; chmod 600 "$UMOD_CONTROL_DIR/$host.sock"
	"$umod" lsmod -p "$host" > /dev/null || fail "the host stopped serving after a refusal"
else
	echo "(not root or no setpriv: the other-uid checks are skipped)"
fi

# Once the holder lets go, the unload goes through.
kill -USR1 "$host"
paused 3
"$umod" rmmod -p "$host" net || fail "rmmod -p net"
"$umod" rmmod -p "$host" crc || fail "rmmod -p crc after the holder let go"
[ "$("$umod" lsmod -p "$host")" = "Module                  Size  Used by" ] || fail "modules left"
kill -USR1 "$host"
wait "$host" || fail "the host script failed"
[ ! -e "$UMOD_CONTROL_DIR/$host.sock" ] || fail "the socket outlived the host"
host=
[ -z "$(ls "$UMOD_CONTROL_DIR")" ] || fail "sockets left: $(ls "$UMOD_CONTROL_DIR")"

# Without --control (and UMOD_CONTROL unset): no socket.
printf 'insmod %s/crc.so\npause 300\n' "$mods" > "$tmp/quiet.umod"
env -u UMOD_CONTROL "$umod" run "$tmp/quiet.umod" > "$tmp/quiet.out" 2>&1 &
quiet=$!
sleep 0.1
[ -z "$(ls "$UMOD_CONTROL_DIR")" ] || fail "a host without --control made a socket"
wait "$quiet"

# Usage errors are clear, never a crash.
if "$umod" holders crc 2> "$tmp/nohost"; then fail "holders without a host"; fi
grep -q "no host given" "$tmp/nohost" || fail "holders without -p"
if "$umod" lsmod -p abc 2> "$tmp/badpid"; then fail "-p abc"; fi
grep -q "'abc' is not a process id" "$tmp/badpid" || fail "-p abc message"
if "$umod" lsmod -p 999999999 2> "$tmp/nosuch"; then fail "-p of no host"; fi
grep -q "No such file or directory" "$tmp/nosuch" || { cat "$tmp/nosuch"; fail "-p of no host message"; }
"$umod" holders --help | grep -q "^usage: umod holders MODULE \[--json\]" || fail "holders --help"
# With a host, --help is the live command's; without, the kernel's (kmod's).
"$umod" rmmod -p "$$" --help | grep -q "^usage: umod rmmod \[-f|--force\]" || fail "rmmod -p PID --help"
echo "live hosts: inspected, managed, refused and cleaned up as expected"
