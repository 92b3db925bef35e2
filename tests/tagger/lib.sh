# Shared helpers for the tagger's shell tests. Audio is synthesised with sox
# at test time; nothing is committed.
GS="${1:?usage: test.sh GENRESCOPE_BINARY ...}"
failures=0
checks=0
T=$(mktemp -d "${GS_TEST_TMP:-/tmp}/$(basename "$0" .sh).XXXXXX")
chmod 0755 "$T" # tests that drop root privileges still read $T/home
export HOME="$T/home" XDG_DATA_HOME="$T/home/data" XDG_CONFIG_HOME="$T/home/config"
mkdir -p "$HOME"

command -v sox >/dev/null || { echo "sox not installed: skipped"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 shell not installed: skipped"; exit 77; }

check() { # check DESCRIPTION CONDITION...
    local what="$1"; shift
    checks=$((checks + 1))
    if "$@"; then :; else
        failures=$((failures + 1))
        echo "FAILED: $what" >&2
    fi
}
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
finish() {
    echo "$(basename "$0"): $checks checks, $failures failed"
    [ "$failures" -eq 0 ] && rm -rf "$T"
    [ "$failures" -eq 0 ]
}
# tone FILE FREQ SECONDS [AMPLITUDE]: a sine at 22050 Hz mono, any format sox writes.
tone() { sox -n -r 22050 -c 1 -b 16 "$1" synth "$3" sine "$2" vol "${4:-0.5}" 2>/dev/null; }
# Frequencies at the centre of the fake analyser's genre bins (55 Hz * 2^(i + 0.5)).
F_BLUES=77.8; F_CLASSICAL=155.6; F_HIPHOP=1244.5; F_JAZZ=2489; F_DISCO=622.3
q() { sqlite3 -batch -noheader "$@"; }
