#!/bin/bash
# Settings that stay: the configuration file sets the defaults of the options
# of the same name, the command line overrides it, `genrescope config` says
# where each value comes from, a typo is an error with its line, and a plain
# scan (from cron, without the first scan's options) never undoes --multi.
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
L="$T/lib"; mkdir -p "$L"
CFG="$XDG_CONFIG_HOME/genrescope/config"
genres() { metaflac --show-tag=GENRE "$1" | wc -l; }

"$GS" config > "$T/c0.txt"
check "without a file: config says so" grep -q "configuration file: $CFG (absent" "$T/c0.txt"
check "...and every key is its default" eq "$(grep -c '^# [a-z-]* = (.*)    # default: ' "$T/c0.txt")" 9

mkdir -p "$(dirname "$CFG")"
cat > "$CFG" <<CONF
# my settings
db = $T/my.sqlite
multi = yes
multi-threshold = 0.01   # every genre the model sees
multi-separator = " / "
jobs = 1
CONF
"$GS" config > "$T/c1.txt"
check "config shows the value and its line" grep -qx "db = \"$T/my.sqlite\"    # $CFG:2" "$T/c1.txt"
check "quoted values keep their spaces" grep -qx "multi-separator = \" / \"    # $CFG:5" "$T/c1.txt"
check "a comment after a value is no part of it" grep -qx "multi-threshold = \"0.01\"    # $CFG:4" "$T/c1.txt"
"$GS" config --json > "$T/c1.json"
check "config --json" grep -q '"key":"multi","value":"yes","default":"no","source":"[^"]*config:3"' "$T/c1.json"

tone "$L/disco.flac" $F_DISCO 2
"$GS" scan -q "$L"
check "scan used the configured index" test -s "$T/my.sqlite"
check "...and multi with the configured separator" grep -q '^GENRE=Disco / ' <(metaflac --show-tag=GENRE "$L/disco.flac")
tone "$L/jazz.flac" $F_JAZZ 2
"$GS" scan -q --no-multi "$L/jazz.flac"
check "--no-multi on the command line wins over the file" eq "$(metaflac --show-tag=GENRE "$L/jazz.flac")" "GENRE=Jazz"

# A plain scan never undoes a choice: without any file, a genre list
# written by --multi stays a list when the next scan (from cron, with no
# options) re-analyses the file, unless --no-multi says otherwise.
mv "$CFG" "$T/config.off"
tone "$L/blues.flac" 102 2 # nearer blues than classical in the fake: both score >= 0.25
"$GS" scan --db "$T/other.sqlite" -q --multi "$L/blues.flac"
n=$(genres "$L/blues.flac")
check "--multi wrote several genres" test "$n" -ge 2
"$GS" scan --db "$T/other.sqlite" -q --force "$L/blues.flac"
check "a plain scan re-analysing it keeps them" eq "$(genres "$L/blues.flac")" "$n"
"$GS" scan --db "$T/other.sqlite" -q "$L/blues.flac"
check "...and so does a plain incremental one" eq "$(genres "$L/blues.flac")" "$n"
"$GS" scan --db "$T/other.sqlite" -q --no-multi "$L/blues.flac"
check "--no-multi makes it one genre" eq "$(genres "$L/blues.flac")" 1

# Typos are errors that name the line, for every command.
printf 'db = %s\nmulti = perhaps\n' "$T/x.sqlite" > "$T/bad.conf"
GENRESCOPE_CONFIG="$T/bad.conf" "$GS" stats > /dev/null 2> "$T/bad.err"
check "a bad value: exit 2" eq "$?" 2
check "...naming the file and line" grep -q "bad.conf:2: multi wants yes or no, not 'perhaps'" "$T/bad.err"
printf 'colour = blue\n' > "$T/bad2.conf"
GENRESCOPE_CONFIG="$T/bad2.conf" "$GS" config > /dev/null 2> "$T/bad2.err"
check "an unknown key: exit 2 with its line" bash -c "grep -q \"bad2.conf:1: unknown key 'colour'\" '$T/bad2.err'"
# A comment longer than any buffer stays a comment (its tail once became a
# setting of its own).
{ printf '# %s multi = perhaps\n' "$(head -c 6000 /dev/zero | tr '\0' x)"; printf 'multi = yes\n'; } > "$T/long.conf"
GENRESCOPE_CONFIG="$T/long.conf" "$GS" config > "$T/long.txt" 2> "$T/long.err"
check "a 6000-byte comment line: fine" eq "$?" 0
check "...and the setting after it is line 2" grep -qx "multi = \"yes\"    # $T/long.conf:2" "$T/long.txt"
# The genre names file reads as the configuration does: quotes keep spaces.
printf 'jazz = "  Jazz # Swing  "   # a comment\n' > "$T/names.conf"
"$GS" scan --db "$T/n.sqlite" --genre-names "$T/names.conf" --no-tags --json "$L/jazz.flac" > "$T/n.json"
check "a quoted display name keeps its spaces and '#'" grep -q '"genre":"  Jazz # Swing  "' "$T/n.json"
finish
