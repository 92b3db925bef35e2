#!/usr/bin/env bash
# What `cmake --install` puts in place, installed into a prefix in a temp
# dir: the man pages render without warnings (groff -ww, man --warnings)
# and say what --help says; genrescope(5) describes every table and column
# of a real index and its genre names example is accepted; bash completion
# completes commands, every option --help lists, genres and files; the zsh
# completion parses and knows every option; `uninstall` removes it all.
#
# The install runs the build tree's cmake_install.cmake with the manifest
# redirected into the temp dir (as is, it writes install_manifest.txt into
# the build tree): tests write only inside directories they made.
#   test_install.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=${1:?usage: test_install.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
for tool in cmake groff man bash zsh sqlite3; do
    command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh --test)"; exit 77; }
done
bc=/usr/share/bash-completion/bash_completion
[ -f "$bc" ] || { echo "SKIP: bash-completion not installed"; exit 77; }
T=$(mktemp -d "${GS_TEST_TMP:-/tmp}/test_install.XXXXXX")
export HOME="$T/home" XDG_DATA_HOME="$T/home/data" XDG_CONFIG_HOME="$T/home/config"
mkdir -p "$HOME"
failures=0
checks=0
check() { # check DESCRIPTION COMMAND...
    checks=$((checks + 1))
    if ! "${@:2}"; then failures=$((failures + 1)); echo "FAILED: $1" >&2; fi
}

# ---- install ---------------------------------------------------------------
P="$T/prefix"
sed "s|\"$build/\${CMAKE_INSTALL_MANIFEST}\"|\"$T/\${CMAKE_INSTALL_MANIFEST}\"|" \
    "$build/cmake_install.cmake" > "$T/cmake_install.cmake"
grep -q "\"$T/\${CMAKE_INSTALL_MANIFEST}\"" "$T/cmake_install.cmake" ||
    { echo "FAIL: could not redirect the install manifest"; exit 1; }
cmake -DCMAKE_INSTALL_PREFIX="$P" -P "$T/cmake_install.cmake" > "$T/install.log" 2>&1
check "install" test $? -eq 0
G="$P/bin/genrescope"
man1="$P/share/man/man1" man5="$P/share/man/man5"
for f in "$G" "$P/bin/genrescope-train" "$man1/genrescope.1" "$man1/genrescope-train.1" "$man5/genrescope.5" \
         "$P/share/bash-completion/completions/genrescope" "$P/share/zsh/site-functions/_genrescope" \
         "$P/share/doc/genrescope/README.md"; do
    check "installed: ${f#$P/}" test -s "$f"
done

# ---- man pages -------------------------------------------------------------
export MANWIDTH=80 LC_ALL=C.UTF-8
for page in "$man1/genrescope.1" "$man1/genrescope-train.1" "$man5/genrescope.5"; do
    check "groff -ww: no warning in $(basename "$page")" \
        bash -c "[ -z \"\$(groff -ww -man -Tutf8 -z '$page' 2>&1)\" ]"
    check "man --warnings: none in $(basename "$page")" \
        bash -c "[ -z \"\$(man --warnings -l '$page' 2>&1 > /dev/null)\" ]"
    # The source with roff's escapes undone (the rendered text hyphenates
    # long options at line ends).
    sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' "$page" > "$T/$(basename "$page").src"
done
# genrescope(1) has every command with every option its --help lists.
mantext="$T/genrescope.1.src"
for cmd in $("$G" --help | sed -n '/^commands:$/,/^$/p' | awk 'NF >= 2 {print $1}'); do
    # The command's section: from its heading to the next command's.
    awk -v c="\"$cmd\"" '/^\.S[SH] / {on = ($2 == c)} on' "$mantext" > "$T/man-$cmd.txt"
    check "genrescope(1) has a section for $cmd" test -s "$T/man-$cmd.txt"
    "$G" "$cmd" --help | sed -n '/^options:$/,/^$/p' |
        sed -En 's/^  (-[a-zA-Z], |    )(--[a-z-]+).*/\2/p' > "$T/opts-$cmd"
    while read -r opt; do
        check "genrescope(1) $cmd documents $opt" grep -q -- "$opt\b" "$T/man-$cmd.txt"
    done < "$T/opts-$cmd"
    check "genrescope(1) $cmd has its exit statuses" grep -q "Exit status:" "$T/man-$cmd.txt"
done
# genrescope-train(1) has every option genrescope-train --help mentions.
"$P/bin/genrescope-train" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u > "$T/train-opts"
check "genrescope-train --help lists options" test "$(wc -l < "$T/train-opts")" -gt 20
while read -r opt; do
    check "genrescope-train(1) documents $opt" grep -q -- "$opt\b" "$T/genrescope-train.1.src"
done < "$T/train-opts"

# genrescope(5) describes every table and column of a new index.
mkdir "$T/empty"
"$G" scan --quiet --db "$T/i.sqlite" "$T/empty" > /dev/null 2>&1
check "a new index" test -s "$T/i.sqlite"
page5="$T/genrescope.5.src"
for table in $(sqlite3 "$T/i.sqlite" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"); do
    check "genrescope(5) has a section for table $table" grep -q "^\.SS \"$table: " "$page5"
    for col in $(sqlite3 "$T/i.sqlite" "SELECT name FROM pragma_table_info('$table')"); do
        # A column is a tagged paragraph (.TP, .B name) of its table's section.
        check "genrescope(5) describes $table.$col" \
            bash -c "awk -v t='\"$table:' '/^\.S[SH] / {on = (\$2 == t)} on' '$page5' | grep -qx '\.B $col'"
    done
done
version=$(sqlite3 "$T/i.sqlite" 'PRAGMA user_version')
check "genrescope(5) has the index's schema version ($version)" grep -q "user_version.* ($version)" "$page5"
check "...which is the one this build creates" \
    grep -q "define GS_INDEX_SCHEMA_VERSION $version\$" "$src/tagger/index_db.h"
# Its genre names example is a file genrescope accepts, with the effect said.
sed -n '/^Example:/,/^\.fi/p' "$page5" | grep -E '^(#|[a-z]+ = )' > "$T/genres.conf"
check "genrescope(5) has a genre names example" test "$(wc -l < "$T/genres.conf")" -ge 2
"$G" stats --db "$T/i.sqlite" --genre-names "$T/genres.conf" > /dev/null 2> "$T/e"
check "the example is accepted" test $? -eq 0
# Its configuration file example is one genrescope reads, keys and quotes as said.
sed -n '/^A configuration file:/,/^\.fi/p' "$page5" | sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' > "$T/config"
check "genrescope(5) has a configuration example" test "$(wc -l < "$T/config")" -ge 2
GENRESCOPE_CONFIG="$T/config" "$G" config > "$T/config.out" 2> "$T/e"
check "the configuration example is accepted" test $? -eq 0
check "...with its quoted separator" grep -q '^multi-separator = " / "' "$T/config.out"
# Every key genrescope config knows is documented there.
for key in $("$G" config | sed -n 's/^# \([a-z-]*\) = .*/\1/p'); do
    check "genrescope(5) documents the configuration key $key" grep -qx "\.B $key" "$page5"
done

# ---- bash completion ---------------------------------------------------------
# complete WORDS...: what Tab offers after the last word (bash-completion's
# own machinery, the installed file).
complete_words() {
    bash --norc --noprofile -c '
        source "$1" || exit 1
        source "$2" || exit 1
        compopt() { :; } # only works inside real completion; a no-op here
        shift 2
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        _genrescope genrescope "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$P/share/bash-completion/completions/genrescope" "$@"
}
check "bash: commands" grep -qx scan <(complete_words genrescope sc)
check "bash: only matching commands" test "$(complete_words genrescope sc | wc -l)" -eq 1
check "bash: help COMMAND" grep -qx playlist <(complete_words genrescope help pl)
check "bash: --dry-run" grep -qx -- --dry-run <(complete_words genrescope scan --dr)
check "bash: genres for --genre" grep -qx hiphop <(complete_words genrescope query --genre hi)
check "bash: genres for similar --genre" grep -qx jazz <(complete_words genrescope similar --genre ja)
check "bash: genre lists for --mixed" grep -qx jazz,blues <(complete_words genrescope query --mixed jazz,bl)
mkdir -p "$T/music"
touch "$T/music/track one.flac" "$T/music/other.wav"
check "bash: files for classify" grep -qx "$T/music/track one.flac" <(complete_words genrescope classify "$T/music/tr")
check "bash: files for --db" grep -qx "$T/music/other.wav" <(complete_words genrescope stats --db "$T/music/ot")
check "bash: no files after --count" test -z "$(complete_words genrescope similar --count "$T/music/")"
for cmd in $("$G" --help | sed -n '/^commands:$/,/^$/p' | awk 'NF >= 2 {print $1}'); do
    complete_words genrescope "$cmd" - > "$T/bash-$cmd"
    while read -r opt; do
        check "bash: $cmd completes $opt" grep -qx -- "$opt" "$T/bash-$cmd"
    done < "$T/opts-$cmd"
done

# ---- zsh completion ----------------------------------------------------------
z="$P/share/zsh/site-functions/_genrescope"
check "zsh: the completion parses" zsh -n "$z"
check "zsh: it loads as a completion function" zsh -fc "fpath=('$P/share/zsh/site-functions' \$fpath); autoload -Uz compinit && compinit -u -d '$T/zcompdump' && [[ \${_comps[genrescope]} == _genrescope ]]"
# Typed into an interactive zsh, Tab completes.
ztab() { zsh -f "$(dirname "$0")/zsh_complete.zsh" "$P/share/zsh/site-functions" "$T/home" "$1"; }
check "zsh: a command" grep -q 'genrescope scan ' <(ztab 'genrescope sca')
check "zsh: help COMMAND" grep -q 'genrescope help playlist ' <(ztab 'genrescope help playl')
check "zsh: an option" grep -q 'genrescope scan --dry-run ' <(ztab 'genrescope scan --dry')
ztab 'genrescope query --genre ' > "$T/z-genres"
check "zsh: genres" bash -c "grep -qw hiphop '$T/z-genres' && grep -qw classical '$T/z-genres'"
ztab "genrescope classify ../music/tr" > "$T/z-files" # relative: a short line
check "zsh: files" grep -qF "genrescope classify ../music/track\\ one.flac" "$T/z-files"
for cmd in $("$G" --help | sed -n '/^commands:$/,/^$/p' | awk 'NF >= 2 {print $1}'); do
    check "zsh: has $cmd" grep -q "^  '$cmd:" "$z"
    while read -r opt; do
        check "zsh: $cmd has $opt" bash -c "awk '/^      $cmd\\)/,/;;/' '$z' | grep -q -- '$opt[]=[+}]'"
    done < "$T/opts-$cmd"
done

# ---- uninstall ---------------------------------------------------------------
cmake -DGS_MANIFEST="$T/install_manifest.txt" -P "$build/cmake_uninstall.cmake" > "$T/uninstall.log" 2>&1
check "uninstall" test $? -eq 0
check "no file left" test -z "$(find "$P" ! -type d)"
check "genrescope's own directories are gone" \
    test -z "$(find "$P" -type d \( -name genrescope -o -name genrescope.lv2 \))"

echo "test_install: $checks checks, $failures failed"
[ "$failures" -eq 0 ] && rm -rf "$T"
[ "$failures" -eq 0 ]
