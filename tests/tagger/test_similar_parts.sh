#!/bin/bash
# Long tracks (a DJ mix) are compared by their parts: a track finds the
# part of a mix that sounds like it, a part of a mix (--at) finds the
# tracks, and a mix as the query finds what each of its parts sounds like.
# With the synthetic analyser (a tone's pitch is its genre and embedding),
# a 12-minute "mix" of three tones: its mean embedding is like none of
# them, its 30 s windows are each like one.
set -u
. "$(dirname "$0")/lib.sh"

L="$T/lib"; mkdir -p "$L"
tone "$L/jazz.wav" $F_JAZZ 20
tone "$L/classical.wav" $F_CLASSICAL 20
tone "$L/disco.wav" $F_DISCO 20
tone "$L/blues.wav" $F_BLUES 20
# 0:00-4:00 jazz, 4:00-8:00 classical, 8:00-12:00 disco (8 kHz keeps it small).
sox -n -r 8000 -c 1 -b 16 "$T/p1.wav" synth 240 sine $F_JAZZ vol 0.5
sox -n -r 8000 -c 1 -b 16 "$T/p2.wav" synth 240 sine $F_CLASSICAL vol 0.5
sox -n -r 8000 -c 1 -b 16 "$T/p3.wav" synth 240 sine $F_DISCO vol 0.5
sox "$T/p1.wav" "$T/p2.wav" "$T/p3.wav" "$L/mix.wav"
# A short "mix" (2 minutes) stays one track: compared by its mean.
sox -n -r 8000 -c 1 -b 16 "$T/s1.wav" synth 60 sine $F_JAZZ vol 0.5
sox -n -r 8000 -c 1 -b 16 "$T/s2.wav" synth 60 sine $F_CLASSICAL vol 0.5
sox "$T/s1.wav" "$T/s2.wav" "$L/short_mix.wav"
DB="$T/index.sqlite"
"$GS" scan --db "$DB" -q --no-tags "$L"
check "scan exits 0" eq "$?" 0

mix_id=$(q "$DB" "SELECT id FROM tracks WHERE path LIKE '%/mix.wav'")
check "every window of the mix has its embedding" \
    eq "$(q "$DB" "SELECT count(*) FROM windows WHERE track_id = $mix_id AND length(embedding) = 8 * 4")" 24

# field JSON_LINE KEY: a number or string field of a flat JSON line.
field() { sed -n "s/.*\"$2\":\\(\"[^\"]*\"\\|[-0-9.e]*\\).*/\\1/p" <<< "$1" | tr -d '"'; }
# hit NAME JSONFILE: the line of the first hit whose path ends in /NAME.
hit() { grep "\"path\":\"[^\"]*/$1\"" "$2" | head -1; }
part_start() { sed -n 's/.*"part":{"start":\([0-9.]*\).*/\1/p' <<< "$1"; }
query_start() { sed -n 's/.*"query_part":{"start":\([0-9.]*\).*/\1/p' <<< "$1"; }
between() { awk -v x="$1" -v a="$2" -v b="$3" 'BEGIN { exit !(x != "" && x >= a && x < b) }'; }
above() { awk -v x="$1" -v a="$2" 'BEGIN { exit !(x != "" && x > a) }'; }

# ---- a track finds the part of the mix that sounds like it ---------------
for spec in "jazz.wav 0 240" "classical.wav 240 480" "disco.wav 480 720"; do
    set -- $spec
    "$GS" similar --db "$DB" --json -c 10 "$L/$1" > "$T/sim.json"
    line=$(hit mix.wav "$T/sim.json")
    check "$1: the mix is the most similar track" grep -q '"rank":1,.*mix.wav' "$T/sim.json"
    check "$1: by a part in the right place ($2-$3 s)" between "$(part_start "$line")" "$2" "$3"
    check "$1: and as similar as the same tone can be" above "$(field "$line" similarity)" 0.99
done
"$GS" similar --db "$DB" -c 10 "$L/jazz.wav" > "$T/sim.txt"
check "text output says where in the mix" grep -Eq "mix.wav at [0-9]:[0-9]{2}-[0-9]:[0-9]{2}$" "$T/sim.txt"
# The short mix is one track: its mean, never a part.
line=$(hit short_mix.wav "$T/sim.json")
check "a track under 10 minutes has no parts" eq "$(part_start "$line")" ""

# ---- the mix is not like everything ---------------------------------------
"$GS" similar --db "$DB" --json -c 10 "$L/blues.wav" > "$T/blues.json"
mix_sim=$(field "$(hit mix.wav "$T/blues.json")" similarity)
classical_sim=$(field "$(hit classical.wav "$T/blues.json")" similarity)
check "blues (not in the mix): the mix scores as its closest part, classical ($classical_sim)" \
    awk -v m="$mix_sim" -v c="$classical_sim" 'BEGIN { d = m - c; exit !(m != "" && d < 0.001 && d > -0.001) }'

# ---- a part of the mix finds its tracks ------------------------------------
"$GS" similar --db "$DB" --json -c 3 --at 5:00 "$L/mix.wav" > "$T/at.json"
check "--at 5:00: classical first" grep -q '"rank":1,.*classical.wav' "$T/at.json"
check "--at 5:00: the query part is 4:30-5:00 or 5:00-5:30" \
    between "$(query_start "$(hit classical.wav "$T/at.json")")" 270 301
"$GS" similar --db "$DB" --json -c 3 --at 610.5 "$L/mix.wav" > "$T/at2.json"
check "--at 610.5 (seconds): disco first" grep -q '"rank":1,.*disco.wav' "$T/at2.json"
"$GS" similar --db "$DB" -c 3 --at 20:00 "$L/mix.wav" > /dev/null 2> "$T/late.err"
check "--at past the end: exit 1" eq "$?" 1
check "...saying how long the track is" grep -q "is only 12:00 long" "$T/late.err"
"$GS" similar --db "$DB" -c 3 --at 1:75 "$L/mix.wav" > /dev/null 2> "$T/bad.err"
check "--at 1:75: bad value, exit 2" eq "$?" 2
"$GS" similar --db "$DB" --json -c 3 --at 0:10 "$L/jazz.wav" > "$T/short_at.json"
check "--at on a short track searches with its window" grep -q '"query_part":{"start":0' "$T/short_at.json"

# ---- the whole mix as the query: what each part sounds like ----------------
"$GS" similar --db "$DB" --json -c 5 "$L/mix.wav" > "$T/mixq.json"
for spec in "jazz.wav 0 240" "classical.wav 240 480" "disco.wav 480 720"; do
    set -- $spec
    line=$(hit "$1" "$T/mixq.json")
    check "mix as query: $1 found by the part at $2-$3 s" between "$(query_start "$line")" "$2" "$3"
    check "mix as query: $1 at full similarity" above "$(field "$line" similarity)" 0.99
done
check "mix as query: blues not in the top 3" \
    test "$(grep -n 'blues.wav' "$T/mixq.json" | cut -d: -f1)" -gt 3

# ---- the cache: parts survive a rebuild, a deleted window makes it stale -----
cp "$T/sim.json" "$T/before.json"
rm -f "$DB.emb"
"$GS" similar --db "$DB" --json -c 10 "$L/disco.wav" > "$T/rebuilt.json"
"$GS" similar --db "$DB" --json -c 10 "$L/disco.wav" > "$T/mapped.json"
check "rebuilt and mapped cache agree" cmp -s "$T/rebuilt.json" "$T/mapped.json"
q "$DB" "UPDATE windows SET embedding = NULL WHERE track_id = $mix_id AND start >= 480"
"$GS" similar --db "$DB" --json -c 10 "$L/disco.wav" > "$T/stale.json"
check "a changed window makes the cache stale: the disco part is gone" \
    test "$(part_start "$(hit mix.wav "$T/stale.json")")" != "$(part_start "$(hit mix.wav "$T/mapped.json")")"

# ---- merge keeps the parts; an index from before schema 6 gets them --------
"$GS" scan --db "$T/shard.sqlite" -q --no-tags "$L"
"$GS" merge "$T/merged.sqlite" "$T/shard.sqlite" > /dev/null
check "merge copies window embeddings" \
    eq "$(q "$T/merged.sqlite" "SELECT count(*) FROM windows WHERE embedding IS NOT NULL")" \
       "$(q "$T/shard.sqlite" "SELECT count(*) FROM windows WHERE embedding IS NOT NULL")"
check "merge copies each file's identity (digests) too" \
    eq "$(q "$T/merged.sqlite" "SELECT count(*) FROM tracks WHERE file_digest IS NOT NULL")" \
       "$(q "$T/shard.sqlite" "SELECT count(*) FROM tracks WHERE file_digest IS NOT NULL")"
check "...of every track" eq "$(q "$T/merged.sqlite" "SELECT count(*) FROM tracks WHERE file_digest IS NULL")" 0
# Back to what schema 5 was, as an older genrescope left it.
q "$T/shard.sqlite" "DROP TRIGGER windows_gen_insert; DROP TRIGGER windows_gen_update;
    DROP TRIGGER windows_gen_delete; ALTER TABLE windows DROP COLUMN embedding;
    ALTER TABLE tracks DROP COLUMN verdict; PRAGMA user_version = 5"
rm "$T/shard.sqlite.emb" # an older genrescope's cache has another format
"$GS" similar --db "$T/shard.sqlite" --json -c 10 "$L/jazz.wav" > "$T/v5.json"
check "schema 5 read only: similar works, by whole tracks" test -s "$T/v5.json"
check "...without parts" eq "$(grep -c '"part"' "$T/v5.json")" 0
"$GS" scan --db "$T/shard.sqlite" --json --no-tags "$L" > "$T/upgrade.json"
check "the scan that migrates analyses the long track again" \
    grep -q '"path":"[^"]*/mix.wav".*"status":"analysed"' "$T/upgrade.json"
check "...and only it" eq "$(grep -c '"status":"analysed"' "$T/upgrade.json")" 1
check "...which now has its parts" \
    eq "$(q "$T/shard.sqlite" "SELECT count(*) FROM windows w JOIN tracks t ON t.id = w.track_id WHERE t.path LIKE '%/mix.wav' AND w.embedding IS NOT NULL")" 24

finish
