#!/bin/bash
# The real `genrescope` (core classifier) through scan/show/similar, when
# the binary and a model exist; skipped otherwise (core still landing).
set -u
BIN="${1:?}"
MODEL="${GS_SOURCE_DIR:-.}/models/genrescope-gtzan.safetensors"
[ -x "$BIN" ] || { echo "no genrescope binary yet: skipped"; exit 77; }
[ -f "$MODEL" ] || { echo "no model at $MODEL: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh" "$BIN"
L="$T/lib"; mkdir -p "$L"
tone "$L/a.wav" 440 6
sox -n -r 44100 -c 2 "$L/c.wav" synth 6 pinknoise vol 0.3 2>/dev/null
command -v ffmpeg >/dev/null && ffmpeg -nostdin -loglevel error -i "$L/a.wav" -c:a aac "$L/d.m4a"
# Real music when the GTZAN clips are here (any format): two full-length
# jazz clips, for the genre and similarity path.
music=0
if [ -d "${GS_GTZAN_DIR:-}/jazz" ]; then
    for f in $(ls "$GS_GTZAN_DIR/jazz" | sort | head -n 2); do
        cp "$GS_GTZAN_DIR/jazz/$f" "$L/gtzan-$f" && music=$((music + 1))
    done
fi
n=$(ls "$L" | wc -l)
"$GS" scan --db "$T/i.sqlite" --model "$MODEL" --json -j 2 "$L" > "$T/scan.json"
check "real scan exits 0" eq "$?" 0
check "every file analysed" eq "$(q "$T/i.sqlite" 'SELECT count(*) FROM tracks WHERE error IS NULL')" "$n"
check "a sine and pink noise are not music: indexed, no genre, no tag" \
    eq "$(q "$T/i.sqlite" "SELECT count(*) FROM tracks WHERE top_genre IS NULL AND tag_status = 'not-music' AND (path LIKE '%/a.wav' OR path LIKE '%/c.wav')")" 2
check "model id recorded" test -n "$(q "$T/i.sqlite" 'SELECT DISTINCT model_id FROM tracks')"
"$GS" scan --db "$T/i.sqlite" --model "$MODEL" --json "$L" > "$T/again.json"
check "incremental with the real model" grep -q "\"analysed\":0,\"unchanged\":$n" "$T/again.json"
"$GS" show --db "$T/i.sqlite" "$L/a.wav" > "$T/show.txt"
check "show" eq "$?" 0
check "show says it is not music" grep -q "not music" "$T/show.txt"
if [ "$music" -eq 2 ]; then
    check "the GTZAN clips have genres" \
        eq "$(q "$T/i.sqlite" "SELECT count(*) FROM tracks WHERE top_genre IS NOT NULL AND path LIKE '%gtzan-%'")" 2
    first=$(ls "$L"/gtzan-* | head -n 1)
    "$GS" similar --db "$T/i.sqlite" --json -c 1 "$first" > "$T/sim.json"
    check "similar with real embeddings finds the other clip" grep -q gtzan- "$T/sim.json"
else
    echo "GTZAN clips not found: the genre and similarity checks with real music are skipped"
fi
finish
