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
tone "$L/b.flac" 440 6 0.3
sox -n -r 44100 -c 2 "$L/c.wav" synth 6 pinknoise vol 0.3 2>/dev/null
command -v ffmpeg >/dev/null && ffmpeg -nostdin -loglevel error -i "$L/a.wav" -c:a aac "$L/d.m4a"
n=$(ls "$L" | wc -l)
"$GS" scan --db "$T/i.sqlite" --model "$MODEL" --json -j 2 "$L" > "$T/scan.json"
check "real scan exits 0" eq "$?" 0
check "every file analysed" eq "$(q "$T/i.sqlite" 'SELECT count(*) FROM tracks WHERE error IS NULL AND top_genre IS NOT NULL')" "$n"
check "model id recorded" test -n "$(q "$T/i.sqlite" 'SELECT DISTINCT model_id FROM tracks')"
"$GS" scan --db "$T/i.sqlite" --model "$MODEL" --json "$L" > "$T/again.json"
check "incremental with the real model" grep -q "\"analysed\":0,\"unchanged\":$n" "$T/again.json"
"$GS" similar --db "$T/i.sqlite" --json -n 1 "$L/a.wav" > "$T/sim.json"
check "similar with real embeddings" eq "$(wc -l < "$T/sim.json")" 1
"$GS" show --db "$T/i.sqlite" "$L/a.wav" > /dev/null
check "show" eq "$?" 0
finish
