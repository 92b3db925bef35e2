#!/bin/bash
# Regression tests of the tagger's user-acceptance findings: a genre the
# user corrected survives scans, failed tags are retried, option changes
# reach unchanged files, hard links, low confidence, vanished files, JSON
# file names, output errors and messages.
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
L="$T/lib"; mkdir -p "$L"
DB="$T/index.sqlite"
genre() { metaflac --show-tag=GENRE "$1" | sed 's/^GENRE=//' | tr '\n' ' '; }

# ---- 1. a genre corrected by hand survives a plain scan -------------------
tone "$L/hh.flac" $F_HIPHOP 2
"$GS" scan --db "$DB" -q "$L"
check "genrescope tagged it" eq "$(genre "$L/hh.flac")" "Hip-Hop "
check "index remembers the genre it wrote" eq "$(q "$DB" "SELECT tag_genre FROM tracks")" Hip-Hop
metaflac --remove-tag=GENRE --set-tag=GENRE=Blues "$L/hh.flac"
check "the editor kept our confidence field" grep -q GENRESCOPE_CONFIDENCE <(metaflac --export-tags-to=- "$L/hh.flac")
"$GS" scan --db "$DB" --json "$L" > "$T/s1.json"
check "user's correction kept" eq "$(genre "$L/hh.flac")" "Blues "
check "reported as kept" grep -q '"tag":"kept-existing"' "$T/s1.json"
check "the index knows the file's own genre" eq "$(q "$DB" "SELECT file_genre FROM tracks")" Blues
"$GS" show --db "$DB" "$L/hh.flac" > "$T/show1.txt"
check "show says which genre the kept tag holds" grep -q "genre in the file: Blues (the user's, kept)" "$T/show1.txt"
"$GS" show --db "$DB" --json "$L/hh.flac" > "$T/show1.json"
check "...in JSON too" grep -q '"file_genre":"Blues"' "$T/show1.json"
"$GS" scan --db "$DB" -q "$L"
check "still kept on the next scan" eq "$(genre "$L/hh.flac")" "Blues "

# ---- 2. --overwrite / --multi reach unchanged files without re-analysis ---
"$GS" scan --db "$DB" --overwrite --json "$L" > "$T/s2.json"
check "--overwrite on an unchanged file rewrites its tag" eq "$(genre "$L/hh.flac")" "Hip-Hop "
check "...without re-analysis" grep -q '"analysed":0,"unchanged":1' "$T/s2.json"
check "...counted as re-tagged" grep -q '"retagged":1' "$T/s2.json"
"$GS" scan --db "$DB" --json "$L" > "$T/s3.json"
check "then nothing to do" grep -q '"analysed":0,"unchanged":1,"tagged":0' "$T/s3.json"
"$GS" scan --db "$DB" --multi --multi-threshold 0.1 --json "$L" > "$T/s4.json"
check "--multi on an unchanged file" test "$(metaflac --show-tag=GENRE "$L/hh.flac" | wc -l)" -gt 1
check "--multi: no re-analysis" grep -q '"analysed":0,"unchanged":1,"tagged":1' "$T/s4.json"

# A tag that could not be written is retried once possible.
tone "$L/ro.flac" $F_JAZZ 2
chmod 0444 "$L/ro.flac"
"$GS" scan --db "$DB" -q "$L"
check "read-only: not tagged" eq "$(genre "$L/ro.flac")" ""
"$GS" scan --db "$DB" --json "$L" > "$T/ro2.json"
check "a retry that finds it read-only again re-tags nothing" grep -q '"retagged":0,' "$T/ro2.json"
check "...and counts it as not taggable" grep -q '"not_tagged":1,' "$T/ro2.json"
check "unchanged rows carry their genre" \
    grep -q '"path":"[^"]*hh.flac","status":"unchanged","genre":"Hip-Hop","label":"hiphop","confidence":0\.[0-9]' "$T/ro2.json"
"$GS" scan --db "$DB" "$L" > "$T/ro2.txt"
check "the summary claims no re-tag" eq "$(grep -c 're-tag\|went to unchanged' "$T/ro2.txt")" 0
"$GS" scan --db "$DB" "$L/ro.flac" > "$T/one.txt"
check "one file is '1 file'" grep -q '^1 file in ' "$T/one.txt"
chmod 0644 "$L/ro.flac"
"$GS" scan --db "$DB" --json "$L" > "$T/s5.json"
check "made writable: tagged on the next scan" eq "$(genre "$L/ro.flac")" "Jazz "
check "made writable: not re-analysed" grep -q '"analysed":0,"unchanged":2' "$T/s5.json"
check "made writable: counted as re-tagged" grep -q '"retagged":1,' "$T/s5.json"
check "index records the retried tag" eq "$(q "$DB" "SELECT tag_status || ' ' || tag_genre FROM tracks WHERE path LIKE '%ro.flac'")" "written Jazz"
"$GS" scan --db "$DB" --json "$L" > "$T/s6.json"
check "the new mtime was recorded: unchanged next time" grep -q '"analysed":0,"unchanged":2,"tagged":0' "$T/s6.json"

# ---- 3. hard links are never split silently ------------------------------
H="$T/hard"; mkdir -p "$H"
tone "$H/a.flac" $F_JAZZ 2
ln "$H/a.flac" "$T/a-other-name.flac"
"$GS" scan --db "$T/h.sqlite" --json "$H" > "$T/h.json"
check "hard-linked file not tagged" eq "$(genre "$H/a.flac")" ""
check "hard link reported" grep -q '"tag":"hard-linked","tag_detail":"hard-linked: not tagged (use --break-hardlinks)"' "$T/h.json"
check "still one inode" eq "$(stat -c %h "$H/a.flac")" 2
"$GS" scan --db "$T/h.sqlite" --break-hardlinks -q "$H"
check "--break-hardlinks tags it (unchanged file, stored verdict)" eq "$(genre "$H/a.flac")" "Jazz "

# ---- 6. low confidence is indexed, not tagged -----------------------------
C="$T/conf"; mkdir -p "$C"
tone "$C/x.flac" $F_JAZZ 2
"$GS" scan --db "$T/c.sqlite" --min-confidence 0.999 --json "$C" > "$T/c.json"
check "low confidence: not tagged" eq "$(genre "$C/x.flac")" ""
check "low confidence: reported" grep -q '"tag":"low-confidence","tag_detail":"low confidence: not tagged' "$T/c.json"
check "low confidence: still indexed" eq "$(q "$T/c.sqlite" "SELECT top_genre FROM tracks")" jazz
"$GS" scan --db "$T/c.sqlite" -q "$C"
check "default threshold: tagged later without re-analysis" eq "$(genre "$C/x.flac")" "Jazz "
"$GS" scan --db "$T/c.sqlite" --min-confidence 2 "$C" 2> "$T/c.err"
check "bad value names the option" grep -q "bad value for --min-confidence: '2'" "$T/c.err"
"$GS" scan --db "$T/c.sqlite" -j 0 "$C" 2> "$T/j.err"
check "bad -j value names the option" grep -q "bad value for --jobs: '0'" "$T/j.err"

# ---- 5. vanished files leave the index ------------------------------------
rm "$L/ro.flac"
"$GS" scan --db "$DB" --json "$L" > "$T/p1.json"
check "scan of DIR removes vanished files" eq "$(q "$DB" "SELECT count(*) FROM tracks WHERE path LIKE '%ro.flac'")" 0
check "removed count in the summary" grep -q '"removed":1' "$T/p1.json"
rm "$C/x.flac"
"$GS" prune --db "$T/c.sqlite" -n > "$T/p2.txt"
check "prune -n changes nothing" eq "$(q "$T/c.sqlite" "SELECT count(*) FROM tracks")" 1
check "prune -n lists the paths" grep -qx "would remove: $(q "$T/c.sqlite" "SELECT path FROM tracks")" "$T/p2.txt"
"$GS" prune --db "$T/c.sqlite" --json > "$T/p3.json"
check "prune removes the whole index's vanished files" eq "$(q "$T/c.sqlite" "SELECT count(*) FROM tracks")" 0
check "prune summary" grep -q '"removed":1' "$T/p3.json"

# ---- 7. JSON stays valid with non-UTF-8 file names -------------------------
N="$T/names"; mkdir -p "$N"
tone "$N/$(printf 'caf\xe9').wav" $F_JAZZ 1
"$GS" scan --db "$T/n.sqlite" --json --no-tags "$N" > "$T/n.json"
"$GS" stats --db "$T/n.sqlite" > /dev/null
id=$(q "$T/n.sqlite" "SELECT id FROM tracks")
"$GS" show --db "$T/n.sqlite" --json "$id" >> "$T/n.json"
"$GS" query --db "$T/n.sqlite" --json --genre jazz >> "$T/n.json"
check "every JSON line is valid and keeps the name recoverable" /usr/bin/python3 -c '
import json, os, sys
names = [json.loads(l).get("path") for l in open(sys.argv[1], encoding="utf-8")]
names = [n for n in names if n]
assert len(names) == 3 and all(os.fsencode(n).endswith(b"caf\xe9.wav") for n in names), names' "$T/n.json"

# ---- 8-10. output errors, messages ----------------------------------------
if [ -w /dev/full ]; then
    "$GS" stats --db "$DB" > /dev/full 2> "$T/full.err"
    check "stats > /dev/full fails" eq "$?" 1
    check "output error message" grep -q "cannot write the output" "$T/full.err"
fi
"$GS" merge "$DB" "$DB" 2> "$T/m.err"
check "merge OUT OUT: usage error" eq "$?" 2
check "merge OUT OUT: says why" grep -q "is also an input" "$T/m.err"
S="$T/silent"; mkdir -p "$S"
sox -n -r 22050 -c 1 -b 16 "$S/quiet.wav" trim 0 1
"$GS" scan --db "$T/s.sqlite" --json "$S" > "$T/sil.json"
check "silent files counted" grep -q '"silent":1' "$T/sil.json"
"$GS" scan --db "$T/s2.sqlite" --dry-run --json "$C" "$S" > "$T/dry.json"
check "dry-run summary uses the real run's keys plus dry_run" grep -q '"tagged":0,.*"dry_run":true' "$T/dry.json"
R="$T/re"; mkdir -p "$R"
for i in 1 2 3 4 5 6 7 8; do cp "$S/quiet.wav" "$R/$i.wav"; done
"$GS" scan --db "$T/r.sqlite" -q --no-tags "$R"
GS_FAKE_DELAY_MS=300 "$GS" rescan --db "$T/r.sqlite" -j 1 --no-tags "$R" > "$T/re.out" &
pid=$!; sleep 0.8; kill -INT $pid; wait $pid
check "rescan interrupted" eq "$?" 130
check "interrupted rescan says so" grep -q 'interrupted' "$T/re.out"
check "interrupted rescan does not promise a resume" bash -c "! grep -q 'resumes where' '$T/re.out'"
"$GS" classify -j x.wav > /dev/null 2>&1
check "classify has no -j" eq "$?" 2

# ---- finding things without SQL ------------------------------------------
L3="$T/lib3"; mkdir -p "$L3"; DB3="$T/find.sqlite"
tone "$L3/kept.flac" $F_JAZZ 2
metaflac --set-tag=GENRE=Electronic "$L3/kept.flac"
tone "$L3/fresh.flac" $F_BLUES 2
printf 'not audio' > "$L3/broken.flac"
"$GS" scan --db "$DB3" -q "$L3" 2>/dev/null
check "--status kept-existing" eq "$("$GS" query --db "$DB3" --status kept-existing | awk '{print $NF}')" "$L3/kept.flac"
check "--tag-genre finds a genre outside the model's, any case" \
    eq "$("$GS" query --db "$DB3" --tag-genre electronic | awk '{print $NF}')" "$L3/kept.flac"
check "--tag-genre finds ours too" eq "$("$GS" query --db "$DB3" --tag-genre Blues | awk '{print $NF}')" "$L3/fresh.flac"
check "--status failed" eq "$("$GS" query --db "$DB3" --status failed | awk '{print $NF}')" "$L3/broken.flac"
check "--status tagged" eq "$("$GS" query --db "$DB3" --status tagged | awk '{print $NF}')" "$L3/fresh.flac"
check "--status and --tag-genre together" eq "$("$GS" query --db "$DB3" --status tagged --tag-genre electronic | wc -l)" 0
"$GS" query --db "$DB3" --status kept-existing --json > "$T/kept.json"
check "JSON says what the file holds" grep -q '"tag":"kept-existing","file_genre":"Electronic"' "$T/kept.json"
"$GS" query --db "$DB3" --status bogus > /dev/null 2> "$T/bogus.err"
check "an unknown status is a usage error" eq "$?" 2
check "...that lists the known ones" grep -q "known: failed, low-confidence, kept-existing, not-music, silent, untagged, tagged" "$T/bogus.err"
"$GS" query --db "$DB3" --status tagged --genre jazz > /dev/null 2>&1
check "--status is not combined with --genre" eq "$?" 2

# ---- exit statuses as --help says ------------------------------------------
"$GS" query --db "$DB3" --genre bogus > /dev/null 2>&1
check "query: an unknown genre is exit 2" eq "$?" 2
"$GS" similar --db "$DB3" --genre bogus "$L3/fresh.flac" > /dev/null 2> "$T/sim.err"
check "similar: an unknown genre is exit 2 too" eq "$?" 2
check "...with the reason" grep -q "bogus" "$T/sim.err"
"$GS" similar --db "$DB3" "$T/not-indexed.flac" > /dev/null 2>&1
check "similar: a file not in the index is exit 1" eq "$?" 1
L4="$T/lib4"; mkdir -p "$L4"; tone "$L4/ro.flac" $F_JAZZ 2; chmod 0444 "$L4/ro.flac"
"$GS" scan --db "$T/ro.sqlite" -q "$L4" 2>/dev/null
check "scan: read-only files only is exit 0 (not taggable is no failure)" eq "$?" 0
"$GS" scan --db "$T/ro.sqlite" --help | grep -q "read-only files and"
check "...as --help says" eq "$?" 0
chmod 0644 "$L4/ro.flac"

# ---- one string for players that show one --------------------------------
tone "$L3/multi.flac" $F_DISCO 2
"$GS" scan --db "$DB3" -q --multi --multi-threshold 0.01 --multi-separator " / " "$L3/multi.flac"
check "--multi-separator: one GENRE field" eq "$(metaflac --show-tag=GENRE "$L3/multi.flac" | wc -l)" 1
check "...joined by the separator" grep -q "^GENRE=Disco / " <(metaflac --show-tag=GENRE "$L3/multi.flac")
"$GS" scan --db "$DB3" --json --multi --multi-threshold 0.01 --multi-separator " / " "$L3/multi.flac" > "$T/sep2.json"
check "...and recognised as ours next time (nothing rewritten)" grep -q '"tagged":0,' "$T/sep2.json"

finish
