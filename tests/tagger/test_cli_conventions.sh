#!/usr/bin/env bash
# Walks every subcommand the program lists: --help exits 0 with the usage,
# the option table and the exit statuses; `genrescope help CMD` prints the
# same; CMD --version works; a bad option is one line and the GNU hint, not
# the whole help; every option --help lists is one the command handles
# (test_cli_help checks the other direction, from the parser's own table).
# A short option means one thing everywhere; old long names keep working.
#   test_cli_conventions.sh GENRESCOPE_FAKE GENRESCOPE
# The fake (no CNN, quick to start) runs every command but classify, which
# only the real program has.
source "$(dirname "$0")/lib.sh"
REAL="${2:?usage: test_cli_conventions.sh GENRESCOPE_FAKE GENRESCOPE}"
gs_for() { if [ "$1" = classify ]; then echo "$REAL"; else echo "$GS"; fi; }

version=$("$GS" --version)
check "genrescope --version" grep -Eq '^genrescope [0-9]+\.[0-9]+\.[0-9]+$' <<< "$version"
"$GS" --help > "$T/list.txt"
check "--help exits 0" test $? -eq 0
commands=$(sed -n '/^commands:$/,/^$/p' "$T/list.txt" | awk 'NF >= 2 {print $1}')
check "eleven commands listed" eq "$(wc -w <<< "$commands")" 11
"$GS" help > "$T/help.txt"
check "'genrescope help' is --help" cmp -s "$T/list.txt" "$T/help.txt"
"$GS" frobnicate > "$T/o" 2> "$T/e"
check "unknown command: exit 2" test $? -eq 2
check "unknown command: one line and the hint" eq "$(cat "$T/e")" \
    "genrescope: unknown command 'frobnicate'
Try 'genrescope --help' for the list of commands."

for cmd in $commands; do
    GS=$(gs_for "$cmd")
    "$GS" "$cmd" --help > "$T/$cmd.help" 2> "$T/$cmd.err"
    check "$cmd --help exits 0" test $? -eq 0
    check "$cmd --help: nothing on stderr" test ! -s "$T/$cmd.err"
    check "$cmd --help starts with its usage" grep -q "^usage: genrescope $cmd " <(head -1 "$T/$cmd.help")
    check "$cmd --help has an option table" grep -q '^options:$' "$T/$cmd.help"
    check "$cmd --help has exit statuses" grep -q '^exit status:$' "$T/$cmd.help"
    check "$cmd --help: exit status 0 and 2" bash -c "grep -q '^  0 ' '$T/$cmd.help' && grep -q '^  2 ' '$T/$cmd.help'"
    "$GS" help "$cmd" > "$T/$cmd.help2"
    check "genrescope help $cmd = $cmd --help" cmp -s "$T/$cmd.help" "$T/$cmd.help2"
    check "$cmd --version" eq "$("$GS" "$cmd" --version)" "$version"
    check "$cmd -h = --help" cmp -s "$T/$cmd.help" <("$GS" "$cmd" -h)

    "$GS" "$cmd" --no-such-option > "$T/o" 2> "$T/e"
    check "$cmd: a bad option exits 2" test $? -eq 2
    check "$cmd: a bad option is one line and the hint" eq "$(cat "$T/e")" \
        "genrescope $cmd: unrecognized option '--no-such-option'
Try 'genrescope $cmd --help' for more information."
    check "$cmd: a bad option prints nothing on stdout" test ! -s "$T/o"
    "$GS" "$cmd" -Z > /dev/null 2> "$T/e"
    check "$cmd: a bad short option is one line and the hint" eq "$(head -1 "$T/e")" \
        "genrescope $cmd: invalid option -- 'Z'"
    check "$cmd: ... two lines" eq "$(wc -l < "$T/e")" 2

    # Every option in the table, given before --help: the command must
    # know it (an option in the table without a case in its parser would
    # say "declared but not handled").
    sed -n '/^options:$/,/^$/p' "$T/$cmd.help" |
        sed -En 's/^  (-[a-zA-Z], |    )--([a-z-]+)( ([A-Z][^ ]*))?.*/\2 \4/p' > "$T/$cmd.opts"
    check "$cmd: options found in --help" test -s "$T/$cmd.opts"
    while read -r name meta; do
        if [ -n "$meta" ]; then args=("--$name" 1); else args=("--$name"); fi
        "$GS" "$cmd" "${args[@]}" --help > /dev/null 2> "$T/e"
        rc=$?
        check "$cmd --$name is handled" bash -c "! grep -q 'not handled' '$T/e' && [ $rc -eq 0 -o $rc -eq 2 ]"
        [ "$name" = version ] || [ "$name" = help ] || [ $rc -ne 0 ] ||
            check "$cmd --$name ${meta:+1 }--help still shows the help" test $rc -eq 0
    done < "$T/$cmd.opts"
done

GS=$1
check "both programs list the same commands" cmp -s "$T/list.txt" <("$REAL" --help)
# One meaning per short option across the commands (as --help shows them).
cat "$T"/*.help | sed -En 's/^  (-[a-zA-Z]), (--[a-z-]+).*/\1 \2/p' | sort -u > "$T/shorts"
check "each short option has one long name everywhere" \
    eq "$(cut -d' ' -f1 "$T/shorts" | uniq -d)" ""
check "-c is --count" grep -qx -- '-c --count' "$T/shorts"
check "-n is --dry-run" grep -qx -- '-n --dry-run' "$T/shorts"
check "the documented aliases" bash -c "grep -q -- '--top N' '$T/classify.help' && grep -q -- '--limit N' '$T/query.help' && grep -q -- '--length N' '$T/playlist.help'"
# Previously -n was a count in similar: it must now fail loudly, not do something else.
"$GS" similar -n 3 x > /dev/null 2> "$T/e"
check "similar -n is an error now" test $? -eq 2

# A usage error other than a bad option: one line and the hint.
"$GS" query > /dev/null 2> "$T/e"
check "query without --genre: exit 2, message and hint" eq "$(cat "$T/e")" \
    "genrescope query: --genre, --mixed, --status, --tag-genre or --duplicates is needed
Try 'genrescope query --help' for more information."
"$GS" similar --count 0 x > /dev/null 2> "$T/e"
check "a bad value names the option" eq "$(head -1 "$T/e")" "genrescope similar: bad value for --count: '0'"
"$GS" show --db > /dev/null 2> "$T/e"
check "a missing argument" eq "$(head -1 "$T/e")" "genrescope show: option '--db' requires an argument"
"$GS" scan --dry-run=yes x > /dev/null 2> "$T/e"
check "a flag given a value" eq "$(head -1 "$T/e")" "genrescope scan: option '--dry-run' doesn't allow an argument"
"$GS" scan --b x > /dev/null 2> "$T/e"
check "an ambiguous abbreviation" eq "$(head -1 "$T/e")" "genrescope scan: option '--b' is ambiguous"
"$GS" similar --count > /dev/null 2> "$T/e"
check "a long option with a short form, without its argument" eq "$(head -1 "$T/e")" \
    "genrescope similar: option '--count' requires an argument"
"$GS" scan -j > /dev/null 2> "$T/e"
check "a short option without its argument" eq "$(head -1 "$T/e")" "genrescope scan: option requires an argument -- 'j'"
check "an unambiguous abbreviation works" cmp -s "$T/scan.help" <("$GS" scan --hel)
finish
