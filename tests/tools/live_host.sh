# Live-host tests (sourced, after `umod` is set): a temporary directory in
# `tmp` holding the control sockets, removed at exit with the host killed if
# it still runs, and `fail MESSAGE`, which prints the host's output too.

tmp=$(mktemp -d)
export UMOD_CONTROL_DIR="$tmp/sockets"
host=
trap '[ -n "$host" ] && kill "$host" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/host.out" ] && sed 's/^/  host: /' "$tmp/host.out"; exit 1; }

# start_host ARG...: runs `$umod run ARG...` in the background, its output in
# $tmp/host.out and its pid in `host`.
start_host() {
	"$umod" run "$@" > "$tmp/host.out" 2>&1 &
	host=$!
}

# paused N: waits until the host has printed its Nth "paused" line, or fails
# naming the pause it did not reach.
paused() {
	i=0
	# cat first: grep -c on a file not yet there prints nothing, which ends the loop.
	while [ "$(cat "$tmp/host.out" 2>/dev/null | grep -c '^  paused: ' || true)" -lt "$1" ]; do
		i=$((i + 1)); [ $i -lt 200 ] || fail "the host did not reach pause $1"; sleep 0.05
	done
}
