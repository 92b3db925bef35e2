#!/bin/bash
# A file's identity survives moves and renames: a rescan finds a vanished
# track at its new path by the file's digest (a plain move: not analysed
# again) or by its decoded audio (a move after a tag edit), keeps its row
# (id, history, the genre we wrote counting as ours), and forgets only what
# turned up nowhere. Copies are new tracks with the same audio (duplicates);
# a lossy re-encode is new audio.
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
L="$T/lib"; mkdir -p "$L/album"
DB="$T/index.sqlite"
tone "$L/jazz.flac" $F_JAZZ 3
tone "$L/blues.flac" $F_BLUES 3
tone "$L/album/classical.flac" $F_CLASSICAL 3
tone "$L/album/disco.flac" $F_DISCO 3
"$GS" scan --db "$DB" -q "$L" || exit 1
id_of() { q "$DB" "SELECT id FROM tracks WHERE path = '$1'"; }
jazz_id=$(id_of "$L/jazz.flac"); classical_id=$(id_of "$L/album/classical.flac")
disco_id=$(id_of "$L/album/disco.flac"); blues_id=$(id_of "$L/blues.flac")
check "first scan indexed 4 tracks with digests" \
    eq "$(q "$DB" "SELECT count(*) FROM tracks WHERE file_digest IS NOT NULL AND audio_digest IS NOT NULL")" 4
check "and tagged them" eq "$(metaflac --show-tag=GENRE "$L/jazz.flac")" "GENRE=Jazz"
analysed_at=$(q "$DB" "SELECT analysed_at FROM tracks WHERE id = $jazz_id")

# A rename: the same track, not analysed again.
mv "$L/jazz.flac" "$L/renamed.flac"
"$GS" scan --db "$DB" --dry-run --json "$L" > "$T/dry.json"
check "dry run reports the move" grep -q '"path":"[^"]*renamed.flac","status":"moved","moved_from":"[^"]*/jazz.flac"' "$T/dry.json"
check "dry run changes nothing" eq "$(id_of "$L/jazz.flac")" "$jazz_id"
sleep 1.1 # a re-analysis would show in analysed_at
"$GS" scan --db "$DB" --json "$L" > "$T/rename.json"
check "reported as moved from the old path" \
    grep -q '"path":"[^"]*renamed.flac","status":"moved","moved_from":"[^"]*/jazz.flac"' "$T/rename.json"
check "nothing analysed, nothing removed" grep -q '"analysed":0,"unchanged":3,.*"removed":0,"moved":1,' "$T/rename.json"
check "same row at the new path" eq "$(id_of "$L/renamed.flac")" "$jazz_id"
check "history kept" eq "$(q "$DB" "SELECT analysed_at FROM tracks WHERE id = $jazz_id")" "$analysed_at"
check "tag ownership kept" eq "$(q "$DB" "SELECT tag_genre FROM tracks WHERE id = $jazz_id")" "Jazz"
check "no row left at the old path" eq "$(q "$DB" "SELECT count(*) FROM tracks WHERE path = '$L/jazz.flac'")" 0
"$GS" scan --db "$DB" --json "$L" > "$T/again.json"
check "the next scan sees it unchanged" grep -q '"analysed":0,"unchanged":4,.*"moved":0,' "$T/again.json"

# A folder rename moves every track in it.
mv "$L/album" "$L/album (2024)"
"$GS" scan --db "$DB" --json "$L" > "$T/folder.json"
check "both tracks of the folder moved" grep -q '"analysed":0,"unchanged":2,.*"removed":0,"moved":2,' "$T/folder.json"
check "classical kept its row" eq "$(id_of "$L/album (2024)/classical.flac")" "$classical_id"
check "disco kept its row" eq "$(id_of "$L/album (2024)/disco.flac")" "$disco_id"

# Tags edited, then moved: found by its audio, analysed again, still ours.
metaflac --set-tag=TITLE=Edited "$L/album (2024)/disco.flac"
mv "$L/album (2024)/disco.flac" "$L/disco-edited.flac"
"$GS" scan --db "$DB" --multi --multi-threshold 0.01 --json "$L" > "$T/edited.json"
check "found by its audio" grep -q '"path":"[^"]*disco-edited.flac","status":"analysed","moved_from":"[^"]*disco.flac"' "$T/edited.json"
check "same row" eq "$(id_of "$L/disco-edited.flac")" "$disco_id"
check "our genre is still ours: --multi rewrote it" test "$(metaflac --show-tag=GENRE "$L/disco-edited.flac" | wc -l)" -ge 2
check "the user's title is untouched" eq "$(metaflac --show-tag=TITLE "$L/disco-edited.flac")" "TITLE=Edited"

# A copy is a second track with the same audio: a duplicate.
cp "$L/blues.flac" "$L/blues copy.flac"
"$GS" scan --db "$DB" --json "$L" > "$T/copy.json"
check "the copy is analysed as a new track" grep -q '"path":"[^"]*blues copy.flac","status":"analysed"' "$T/copy.json"
check "the original keeps its row" eq "$(id_of "$L/blues.flac")" "$blues_id"
check "both share an audio digest" \
    eq "$(q "$DB" "SELECT count(DISTINCT audio_digest) || '/' || count(*) FROM tracks WHERE path LIKE '%blues%'")" "1/2"
"$GS" query --db "$DB" --duplicates > "$T/dups.txt"
check "query --duplicates lists the pair" eq "$(grep -c 'blues' "$T/dups.txt")" 2
"$GS" query --db "$DB" --duplicates --json > "$T/dups.json"
check "as one JSON group" eq "$(grep -c '"paths":\[' "$T/dups.json")" 1

# A lossy re-encode replacing the file is new audio: a new track, and the
# vanished one is forgotten.
rm "$L/blues copy.flac"
sox "$L/blues.flac" "$L/blues.ogg" 2>/dev/null && rm "$L/blues.flac"
"$GS" scan --db "$DB" --json "$L" > "$T/reencode.json"
check "the re-encode is analysed as new" grep -q '"path":"[^"]*blues.ogg","status":"analysed","genre"' "$T/reencode.json"
check "the vanished FLAC and copy are removed" grep -q '"removed":2' "$T/reencode.json"
check "no duplicates remain" eq "$(wc -l < <("$GS" query --db "$DB" --duplicates))" 0

# An interrupted scan never forgets a vanished track.
mv "$L/renamed.flac" "$T/outside.flac"
GS_FAKE_DELAY_MS=3000 "$GS" scan --db "$DB" --force -q "$L" & pid=$!
sleep 1; kill -INT $pid; wait $pid
check "interrupted: the vanished row is kept" eq "$(q "$DB" "SELECT count(*) FROM tracks WHERE id = $jazz_id")" 1
mv "$T/outside.flac" "$L/back.flac"
"$GS" scan --db "$DB" -q "$L"
check "and found again when the file comes back" eq "$(id_of "$L/back.flac")" "$jazz_id"
finish
