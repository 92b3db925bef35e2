#!/bin/bash
# "Not music" is an answer the tagger keeps: with a model that has a
# not-music label (the fake analyser's GS_FAKE_NOT_MUSIC=1, where noise is
# not music), noise is indexed with the reason and no genre, never tagged,
# never offered by similar/playlist, and --multi never writes it as a genre.
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
export GS_FAKE_NOT_MUSIC=1
L="$T/lib"; mkdir -p "$L"
DB="$T/index.sqlite"
tone "$L/jazz.flac" $F_JAZZ 3
tone "$L/jazz2.flac" $F_JAZZ 3 0.3
sox -n -r 22050 -c 1 -b 16 "$L/noise.flac" synth 3 whitenoise vol 0.5 2>/dev/null

"$GS" scan --db "$DB" --dry-run --json "$L" > "$T/dry.json"
check "dry run: the noise would not be tagged" \
    grep -q '"path":"[^"]*noise.flac","status":"analysed","verdict":"not-music","not_music":0.89' "$T/dry.json"
check "dry run: the tones would be" eq "$(grep -c '"tag":"would-write"' "$T/dry.json")" 2
check "dry run summary counts it" grep -q '"not_music":1' "$T/dry.json"

"$GS" scan --db "$DB" --multi --multi-threshold 0.01 -q "$L"
check "noise has no genre tag" eq "$(metaflac --show-tag=GENRE "$L/noise.flac")" ""
check "indexed with the reason" eq "$(q "$DB" "SELECT coalesce(top_genre, 'NULL'), tag_status FROM tracks WHERE path LIKE '%noise.flac'")" "NULL|not-music"
check "its scores are kept" eq "$(q "$DB" "SELECT round(score, 2) FROM scores s JOIN tracks t ON t.id = s.track_id WHERE t.path LIKE '%noise.flac' AND s.genre = 'notmusic'")" 0.9
check "no embedding, so never recommended" eq "$(q "$DB" "SELECT count(*) FROM embeddings e JOIN tracks t ON t.id = e.track_id WHERE t.path LIKE '%noise.flac'")" 0
check "--multi never writes 'Not music' as a genre" \
    eq "$(metaflac --show-tag=GENRE "$L/jazz.flac" | grep -c 'Not music')" 0
check "--multi wrote several genres for the tone" test "$(metaflac --show-tag=GENRE "$L/jazz.flac" | wc -l)" -ge 2
check "the window timeline says not music" \
    eq "$(q "$DB" "SELECT w.top_genre FROM windows w JOIN tracks t ON t.id = w.track_id WHERE t.path LIKE '%noise.flac'")" notmusic
"$GS" show --db "$DB" "$L/noise.flac" > "$T/show.txt"
check "show explains it" grep -q "not music (noise, tones, speech...): no genre" "$T/show.txt"
"$GS" similar --db "$DB" "$L/jazz.flac" > "$T/similar.txt"
check "similar never offers the noise" eq "$(grep -c noise.flac "$T/similar.txt")" 0

# Silence and "not music" are told apart without tags too (the verdict,
# not the tag status, says which): query, show and stats.
N="$T/notags"; mkdir -p "$N"
tone "$N/jazz.flac" $F_JAZZ 3
tone "$N/silent.flac" $F_JAZZ 3 0
sox -n -r 22050 -c 1 -b 16 "$N/noise.flac" synth 3 whitenoise vol 0.5 2>/dev/null
"$GS" scan --db "$T/n.sqlite" --no-tags -q "$N"
check "--no-tags: query --status not-music finds the noise" \
    eq "$("$GS" query --db "$T/n.sqlite" --status not-music | awk '{print $NF}')" "$N/noise.flac"
check "--no-tags: query --status silent finds the silence" \
    eq "$("$GS" query --db "$T/n.sqlite" --status silent | awk '{print $NF}')" "$N/silent.flac"
"$GS" show --db "$T/n.sqlite" "$N/noise.flac" > "$T/n-show.txt"
check "--no-tags: show says not music" grep -q "not music (noise, tones, speech...)" "$T/n-show.txt"
"$GS" stats --db "$T/n.sqlite" --json > "$T/n-stats.json"
check "stats: one silent, one not music" grep -q '"silent":1,"not_music":1' "$T/n-stats.json"
# An index from before the verdict column gets it from its genres and scores.
q "$T/n.sqlite" "DROP TRIGGER windows_gen_insert; DROP TRIGGER windows_gen_update;
    DROP TRIGGER windows_gen_delete; ALTER TABLE windows DROP COLUMN embedding;
    ALTER TABLE tracks DROP COLUMN verdict; PRAGMA user_version = 5"
"$GS" scan --db "$T/n.sqlite" --no-tags -q "$N"
check "migrated: every verdict derived" \
    eq "$(q "$T/n.sqlite" "SELECT group_concat(verdict, ' ') FROM (SELECT verdict FROM tracks ORDER BY path)")" \
       "genre not-music silent"

# The model's own tagging threshold is the default; an explicit option wins.
L2="$T/lib2"; mkdir -p "$L2"
tone "$L2/jazz.flac" $F_JAZZ 3
GS_FAKE_TAG_THRESHOLD=0.95 "$GS" scan --db "$T/t.sqlite" --dry-run --json "$L2" > "$T/thr.json"
check "a verdict below the model's threshold is not tagged" grep -q '"tag":"low-confidence","tag_detail":"low confidence: not tagged (0.[0-9]* < 0.95)"' "$T/thr.json"
GS_FAKE_TAG_THRESHOLD=0.95 "$GS" scan --db "$T/t.sqlite" --dry-run --json --min-confidence 0.5 "$L2" > "$T/thr2.json"
check "--min-confidence overrides it" grep -q '"tag":"would-write"' "$T/thr2.json"
"$GS" scan --db "$T/t.sqlite" --dry-run --json "$L2" > "$T/thr3.json"
check "without a recommendation the default is 0.5" grep -q '"tag":"would-write"' "$T/thr3.json"
finish
