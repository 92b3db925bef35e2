#!/bin/bash
# similar, playlist and query keep to one model: an index holding tracks
# of two models (two scans with different GS_FAKE_MODEL_ID) must never
# rank one model's tracks against the other's, must say how many it left
# out, and must notice a model_id changed behind its back (cache staleness).
set -u
. "$(dirname "$0")/lib.sh"

L="$T/lib"
mkdir -p "$L/a" "$L/b"
# The same tones in both directories: across models they would be the
# nearest neighbours of each other, so any mixing shows.
for d in a b; do
    tone "$L/$d/jazz1.wav" $F_JAZZ 2 0.5
    tone "$L/$d/jazz2.wav" $F_JAZZ 2 0.3
    tone "$L/$d/blues1.wav" $F_BLUES 2 0.4
done
tone "$L/b/jazz3.wav" $F_JAZZ 2 0.2
DB="$T/index.sqlite"
GS_FAKE_MODEL_ID=model-a "$GS" scan --db "$DB" --no-tags -q "$L/a"
check "scan a" eq "$?" 0
GS_FAKE_MODEL_ID=model-b "$GS" scan --db "$DB" --no-tags -q "$L/b"
check "scan b" eq "$?" 0
check "two models in the index" eq "$(q "$DB" "SELECT group_concat(model_id || ':' || n) FROM (SELECT model_id, count(*) n FROM tracks GROUP BY 1 ORDER BY 1)")" "model-a:3,model-b:4"
A1=$(q "$DB" "SELECT id FROM tracks WHERE path LIKE '%/a/jazz1.wav'")
B1=$(q "$DB" "SELECT id FROM tracks WHERE path LIKE '%/b/jazz1.wav'")

# ---- similar ---------------------------------------------------------------
"$GS" similar --db "$DB" --json "$L/a/jazz1.wav" > "$T/sim_a.json" 2> "$T/sim_a.err"
check "similar a: exit 0" eq "$?" 0
check "similar a: the other 2 model-a tracks" eq "$(grep -c '"rank"' "$T/sim_a.json")" 2
check "similar a: no model-b track" eq "$(grep '"rank"' "$T/sim_a.json" | grep -c '/b/')" 0
check "similar a: 4 left out" grep -qx '{"summary":{"model":"model-a","other_model_tracks":4}}' "$T/sim_a.json"
"$GS" similar --db "$DB" --json --genre jazz "$B1" > "$T/sim_b.json"
check "similar b --genre: 2 model-b jazz tracks" eq "$(grep '"rank"' "$T/sim_b.json" | grep -c '/b/jazz')" 2
check "similar b --genre: nothing else" eq "$(grep -c '"rank"' "$T/sim_b.json")" 2
check "similar b --genre: the 2 model-a jazz tracks left out" grep -q '"other_model_tracks":2}' "$T/sim_b.json"
"$GS" similar --db "$DB" "$A1" > "$T/sim_a.txt" 2> "$T/sim_a.err"
check "similar text: 2 lines" eq "$(wc -l < "$T/sim_a.txt")" 2
check "similar text: note on stderr" grep -q "4 tracks analysed by another model than model-a left out" "$T/sim_a.err"

# A model_id changed in the sqlite3 shell makes the cache stale (trigger).
check "cache written" test -s "$DB.emb"
q "$DB" "UPDATE tracks SET model_id = 'model-a' WHERE path LIKE '%/b/jazz3.wav'"
"$GS" similar --db "$DB" --json "$A1" > "$T/sim_a2.json"
check "after the change: b/jazz3 is model-a's" eq "$(grep '"rank"' "$T/sim_a2.json" | grep -c '/b/jazz3.wav')" 1
check "after the change: 3 left out" grep -q '"other_model_tracks":3}' "$T/sim_a2.json"
q "$DB" "UPDATE tracks SET model_id = 'model-b' WHERE path LIKE '%/b/jazz3.wav'"

# A model whose embeddings have another size than the cache holds (the
# minority): its tracks are ranked from SQLite, still only among themselves.
q "$DB" "INSERT INTO tracks(id, path, size, mtime_ns, model_id, top_genre, confidence, analysed_at)
         VALUES (901, '/nowhere/c1.wav', 1, 1, 'model-c', 'jazz', 0.9, 1),
                (902, '/nowhere/c2.wav', 1, 1, 'model-c', 'jazz', 0.9, 1);
         INSERT INTO embeddings(track_id, dim, vector) VALUES
                (901, 2, X'0000803F00000000'), (902, 2, X'0000803F0000803F');"
"$GS" similar --db "$DB" --json 901 > "$T/sim_c.json" 2> "$T/sim_c.err"
check "similar c: exit 0" eq "$?" 0
check "similar c: only the other model-c track" eq "$(grep '"rank"' "$T/sim_c.json" | grep -o '"id":[0-9]*')" '"id":902'
check "similar c: its cosine" grep -q '"similarity":0.7071' "$T/sim_c.json"
check "similar c: the 7 others left out" grep -q '"other_model_tracks":7}' "$T/sim_c.json"
"$GS" similar --db "$DB" --json "$A1" > "$T/sim_a3.json"
check "similar a: model-c not mixed in either" eq "$(grep -c '"rank"' "$T/sim_a3.json")" 2
check "similar a: 6 left out now" grep -q '"other_model_tracks":6}' "$T/sim_a3.json"
"$GS" playlist --db "$DB" --seed 901 --count 5 --json > "$T/pl_c.json" 2> "$T/pl_c.err"
check "playlist c (from SQLite): exit 0" eq "$?" 0
check "playlist c: the seed, then the other model-c track" eq "$(grep -o '"id":[0-9]*' "$T/pl_c.json" | tr '\n' ' ')" '"id":901 "id":902 '
check "playlist c: its similarity to the seed" grep -q '"similarity_to_seed":0.7071' "$T/pl_c.json"
check "playlist c: the 7 others left out" grep -q '"other_model_tracks":7}' "$T/pl_c.json"
q "$DB" "DELETE FROM tracks WHERE id IN (901, 902)"

# ---- playlist --------------------------------------------------------------
"$GS" playlist --db "$DB" --seed "$B1" --count 10 --out "$T/pl.m3u8" 2> "$T/pl.err"
check "playlist: exit 0" eq "$?" 0
check "playlist: the 4 model-b tracks" eq "$(grep -c '^/' "$T/pl.m3u8")" 4
check "playlist: no model-a track" eq "$(grep -c '/a/' "$T/pl.m3u8")" 0
check "playlist: note on stderr" grep -q "3 tracks analysed by another model than model-b left out" "$T/pl.err"
"$GS" playlist --db "$DB" --seed "$A1" -c 10 --json > "$T/pl.json" 2>/dev/null
check "playlist json: 3 model-a tracks" eq "$(grep -c '"position"' "$T/pl.json")" 3
check "playlist json: none from b" eq "$(grep '"position"' "$T/pl.json" | grep -c '/b/')" 0
check "playlist json: summary" grep -q '"model":"model-a","other_model_tracks":4}' "$T/pl.json"

# ---- query -----------------------------------------------------------------
"$GS" query --db "$DB" --genre jazz --model model-a --json > "$T/qa.json"
check "query --model a: exit 0" eq "$?" 0
check "query --model a: 2 jazz tracks, all from a" eq "$(grep '"path"' "$T/qa.json" | grep -c '/a/jazz')" 2
check "query --model a: nothing else" eq "$(grep -c '"path"' "$T/qa.json")" 2
check "query --model a: the 3 model-b jazz tracks left out" grep -q '"other_model_tracks":3}' "$T/qa.json"
"$GS" query --db "$DB" --mixed jazz --min-score 0.1 -m model-b > "$T/qb.txt" 2> "$T/qb.err"
check "query --mixed --model b: 3 lines, all from b" eq "$(grep -c '/b/jazz' "$T/qb.txt")" 3
check "query --mixed --model b: nothing else" eq "$(wc -l < "$T/qb.txt")" 3
check "query --mixed: note" grep -q "2 tracks analysed by another model than model-b left out" "$T/qb.err"
"$GS" query --db "$DB" --genre jazz --json > "$T/qdef.json" 2>/dev/null
check "query default model (fake-1 analysed nothing): no track" eq "$(grep -c '"path"' "$T/qdef.json")" 0
check "query default model: all 5 left out" grep -q '"model":"fake-1","other_model_tracks":5}' "$T/qdef.json"
"$GS" query --db "$DB" --genre jazz --any-model --json > "$T/qany.json"
check "query --any-model: all 5 jazz tracks" eq "$(grep -c '"path"' "$T/qany.json")" 5
check "query --any-model: no summary" eq "$(grep -c summary "$T/qany.json")" 0
"$GS" query --db "$DB" --genre jazz --any-model --model model-a > /dev/null 2>&1
check "query --any-model with --model: usage error" eq "$?" 2
finish
