# bash completion for umod: commands, their options, live hosts' pids and
# the module names of the host that -p/--pid names.
_umod_modules() {
    # The first column of `umod lsmod -p PID`, without its header.
    umod lsmod -p "$1" 2>/dev/null | tail -n +2 | cut -d' ' -f1
}

_umod() {
    local cur prev cmd pid i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$(umod --help 2>/dev/null | awk '/^  [a-z]/ {print $1}')" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    case $prev in
        -p|--pid)
            COMPREPLY=($(compgen -W "$(umod ps 2>/dev/null | awk 'NR > 1 {print $1}')" -- "$cur"))
            return ;;
        --host)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
    esac
    pid=
    for ((i = 2; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -p|--pid) pid=${COMP_WORDS[i+1]} ;;
            --pid=*) pid=${COMP_WORDS[i]#--pid=} ;;
        esac
    done
    case $cmd in
        lsmod) COMPREPLY=($(compgen -W "-p --pid --host --json --help" -- "$cur")) ;;
        graph) COMPREPLY=($(compgen -W "-p --pid --host --json --dot --help" -- "$cur")) ;;
        monitor) COMPREPLY=($(compgen -W "-p --pid --host --json -n --help" -- "$cur")) ;;
        track) COMPREPLY=($(compgen -W "-p --pid --host off counts stacks --help" -- "$cur")) ;;
        ps) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
        sign) COMPREPLY=($(compgen -W "-d -p -k sha256 sha384 sha512 --help" -- "$cur") $(compgen -f -- "$cur")) ;;
        verify) COMPREPLY=($(compgen -W "-k --keyring -K --keyring-from-kernel -l --list-keys -x --extract-certs --help" -- "$cur") $(compgen -f -- "$cur")) ;;
        insmod) COMPREPLY=($(compgen -W "-p --pid --host --help" -- "$cur") $(compgen -f -- "$cur")) ;;
        reload) COMPREPLY=($(compgen -W "-p --pid --host -f --force -w --wait --wait= --dry-run --help" -- "$cur") $(compgen -f -- "$cur")) ;;
        holders|rmmod|modinfo)
            local opts="-p --pid --host --json --help"
            [ "$cmd" = rmmod ] && opts="$opts -f --force -w --wait --wait="
            [ "$cmd" = modinfo ] && opts="--pid --host --json --help"
            COMPREPLY=($(compgen -W "$opts" -- "$cur"))
            [ -n "$pid" ] && COMPREPLY+=($(compgen -W "$(_umod_modules "$pid")" -- "$cur"))
            [ "$cmd" = modinfo ] && [ -z "$pid" ] && COMPREPLY+=($(compgen -f -- "$cur")) ;;
        run) COMPREPLY=($(compgen -W "--control --control=read --control=manage --help" -- "$cur") $(compgen -f -- "$cur")) ;;
        *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _umod umod
