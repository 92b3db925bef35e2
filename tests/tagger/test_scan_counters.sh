#!/bin/bash
# Every counter of scan's summary, each made to happen by a file built for
# it, and the whole summary compared with what those files must give: a
# first scan, a second one after the library changed, and one whose index
# refuses a write (what was not saved is said).
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
L="$T/lib"; mkdir -p "$L"
DB="$T/index.sqlite"
# summary FILE: the summary object without its timing.
summary() { grep '"summary"' "$1" | sed 's/,"seconds":[0-9.e-]*//'; }
export GS_FAKE_NOT_MUSIC=1 # noise is not music

tone "$L/new.flac" $F_JAZZ 2                    # tagged
tone "$L/ours.flac" $F_JAZZ 2                   # our tag already there
"$GS" scan --db "$T/elsewhere.sqlite" -q "$L/ours.flac"
tone "$L/user.flac" $F_JAZZ 2                   # the user's own genre
metaflac --set-tag=GENRE=Electronic "$L/user.flac"
tone "$L/ro.flac" $F_JAZZ 2; chmod 0444 "$L/ro.flac"  # read-only
tone "$L/hl.flac" $F_JAZZ 2; ln "$L/hl.flac" "$T/hl-elsewhere.flac"  # hard-linked
tone "$L/between.flac" 880 2                    # half disco, half hip-hop: low confidence
tone "$L/big.flac" $F_JAZZ 40                   # too big to copy under the file size limit
tone "$L/silent.flac" $F_JAZZ 2 0               # silent
sox -n -r 22050 -c 1 -b 16 "$L/noise.flac" synth 2 whitenoise vol 0.5  # not music
echo "not audio" > "$L/broken.flac"             # fails
check "the big file is over the limit below" test "$(stat -c %s "$L/big.flac")" -gt $((256 * 1024))

# A file size limit as a full disk or quota would set: the copy of big.flac
# a tag write makes cannot be written (SIGXFSZ ignored, so the write fails
# with EFBIG instead of killing the scan); the index stays far below it.
(trap '' XFSZ; ulimit -f 256; exec "$GS" scan --db "$DB" --json -j 1 --min-confidence 0.6 "$L") > "$T/s1.json"
check "first scan exits 1 (a file failed)" eq "$?" 1
check "first scan: every counter" eq "$(summary "$T/s1.json")" \
'{"summary":{"files":10,"analysed":9,"unchanged":0,"tagged":1,"already_tagged":1,"kept_existing":1,"not_tagged":1,"hard_linked":1,"low_confidence":1,"retagged":0,"tag_failed":1,"silent":1,"not_music":1,"removed":0,"moved":0,"failed":1,"failed_by_reason":{"not audio or corrupt":1},"not_saved":0,"interrupted":false,"dry_run":false}}'
check "tag_failed is big.flac, for its size" \
    grep -q '"path":"[^"]*/big.flac".*"tag":"failed","tag_detail":"not tagged: [^"]*too large' "$T/s1.json"
check "big.flac untouched" test -z "$(metaflac --show-tag=GENRE "$L/big.flac")"

# ---- the library changes ----------------------------------------------------
rm "$L/new.flac"                 # removed
mv "$L/user.flac" "$L/user2.flac" # moved
chmod 0644 "$L/ro.flac"          # writable now: its tag is retried and written
"$GS" scan --db "$DB" --json -j 1 --min-confidence 0.6 "$L" > "$T/s2.json"
# Files 9: broken.flac is analysed again and fails again; user2.flac is
# moved (not unchanged); the seven others are unchanged, and of them ro.flac
# and big.flac (no size limit now) get the tags that failed before:
# retagged and tagged 2. The rest are only unchanged: nothing was tried on
# them, so they are not counted again as kept, low confidence or hard-linked
# (the summary counts what this run did).
check "second scan: every counter" eq "$(summary "$T/s2.json")" \
'{"summary":{"files":9,"analysed":0,"unchanged":7,"tagged":2,"already_tagged":0,"kept_existing":0,"not_tagged":0,"hard_linked":0,"low_confidence":0,"retagged":2,"tag_failed":0,"silent":0,"not_music":0,"removed":1,"moved":1,"failed":1,"failed_by_reason":{"not audio or corrupt":1},"not_saved":0,"interrupted":false,"dry_run":false}}'
check "big.flac tagged now" eq "$(metaflac --show-tag=GENRE "$L/big.flac")" "GENRE=Jazz"
# Rows of files nothing was done to say so: no tag outcome.
check "the removed file's row has no tag outcome" \
    grep -q '"path":"[^"]*/new.flac","status":"removed"}' "$T/s2.json"
check "an untouched unchanged file's row has no tag outcome" \
    grep -q '"path":"[^"]*/ours.flac","status":"unchanged","genre":"Jazz","label":"jazz","confidence":[0-9.]*}' "$T/s2.json"

# ---- the index refuses a write: the open batch is not saved ------------------
N="$T/lib2"; mkdir -p "$N"
tone "$N/a.flac" $F_JAZZ 2; tone "$N/b.flac" $F_JAZZ 2; tone "$N/doomed.flac" $F_JAZZ 2
mkdir -p "$T/empty"
"$GS" scan --db "$T/refuse.sqlite" -q "$T/empty"
q "$T/refuse.sqlite" "CREATE TRIGGER refuse BEFORE INSERT ON tracks WHEN NEW.path LIKE '%/doomed.flac'
    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
"$GS" scan --db "$T/refuse.sqlite" --json -j 1 --batch 10 "$N" > "$T/s3.json" 2> "$T/s3.err"
check "a refused write: exit 3 (the index cannot be used)" eq "$?" 3
check "...the three files of the open batch not saved" grep -q '"not_saved":3,' "$T/s3.json"
check "...nothing of it in the index" eq "$(q "$T/refuse.sqlite" 'SELECT count(*) FROM tracks')" 0
check "...and the reason on stderr" grep -q "refused by the test" "$T/s3.err"

finish
