#!/bin/bash
# End-to-end tests of scan/rescan/show/similar/query/playlist/stats/merge on
# the real CLI code with the synthetic analyser: tagging, incremental
# rescans, model changes, dry runs, kill -9 resume, queries, shard merge,
# and the loadable SQLite extension.
set -u
. "$(dirname "$0")/lib.sh"
EXT="${2:?}"

L="$T/lib"
mkdir -p "$L/a" "$L/b/deep" "$L/c"
tone "$L/a/jazz1.wav" $F_JAZZ 2 0.5
tone "$L/a/jazz2.flac" $F_JAZZ 2 0.2
tone "$L/a/hiphop1.wav" $F_HIPHOP 2
tone "$L/b/hiphop2.ogg" $F_HIPHOP 2 0.3
tone "$L/b/deep/classical1.wav" $F_CLASSICAL 2
tone "$L/b/between.wav" 880 2            # half disco, half hip-hop
tone "$L/c/.hidden.wav" $F_JAZZ 1
sox -n -r 22050 -c 1 -b 16 "$L/b/mix.wav" synth 30 sine $F_JAZZ synth 40 sine $F_CLASSICAL vol 0.5 2>/dev/null
sox -n -r 22050 -c 1 -b 16 "$T/part1.wav" synth 30 sine $F_JAZZ vol 0.5
sox -n -r 22050 -c 1 -b 16 "$T/part2.wav" synth 40 sine $F_CLASSICAL vol 0.5
sox "$T/part1.wav" "$T/part2.wav" "$L/b/mix.wav"
ln -s .. "$L/c/loop"                     # a symlink loop
ln -s ../a/jazz1.wav "$L/c/link.wav"     # the same file twice
echo "notes" > "$L/a/readme.txt"
DB="$T/index.sqlite"

# ---- first scan ----------------------------------------------------------
"$GS" scan --db "$DB" --json -j 2 "$L" > "$T/scan1.json"
rc=$?
check "first scan exits 0" eq "$rc" 0
check "7 files analysed (hidden, loop, duplicate symlink and .txt skipped)" \
    eq "$(grep -c '"status":"analysed"' "$T/scan1.json")" 7
check "summary line" grep -q '"summary":{"files":7,"analysed":7,"unchanged":0' "$T/scan1.json"
check "WAL mode" eq "$(q "$DB" 'PRAGMA journal_mode')" wal
check "schema version 6" eq "$(q "$DB" 'PRAGMA user_version')" 6
check "jazz1 top genre" eq "$(q "$DB" "SELECT top_genre FROM tracks WHERE path LIKE '%jazz1.wav'")" jazz
check "display names table" eq "$(q "$DB" "SELECT display FROM genres WHERE label = 'hiphop'")" Hip-Hop
check "10 scores per track" eq "$(q "$DB" 'SELECT count(*) FROM scores')" 70
check "embeddings stored as float32 blobs" eq "$(q "$DB" 'SELECT DISTINCT length(vector) / dim FROM embeddings')" 4
if command -v ffprobe >/dev/null; then
    g=$(ffprobe -v error -show_entries format_tags=genre -of default=nw=1:nk=1 "$L/a/jazz2.flac")
    check "FLAC genre tag written" eq "$g" Jazz
    g=$(ffprobe -v error -show_entries format_tags=genre -of default=nw=1:nk=1 "$L/a/hiphop1.wav")
    check "WAV genre tag uses the display name" eq "$g" Hip-Hop
fi
check "tag status recorded" eq "$(q "$DB" "SELECT tag_status FROM tracks WHERE path LIKE '%jazz2.flac'")" written

# ---- incremental ---------------------------------------------------------
"$GS" scan --db "$DB" --json "$L" > "$T/scan2.json"
check "second scan: everything unchanged" grep -q '"analysed":0,"unchanged":7' "$T/scan2.json"
touch "$L/a/hiphop1.wav"
"$GS" scan --db "$DB" --json "$L" > "$T/scan3.json"
check "touched file re-analysed, tag already there" \
    grep -q '"path":"[^"]*hiphop1.wav","status":"analysed","genre":"Hip-Hop","label":"hiphop","confidence":[0-9.e-]*,"tag":"already-tagged"' "$T/scan3.json"
check "only the touched file" grep -q '"analysed":1,"unchanged":6' "$T/scan3.json"
GS_FAKE_MODEL_ID=fake-2 "$GS" scan --db "$DB" --json --no-tags "$L" > "$T/scan4.json"
check "new model re-analyses everything" grep -q '"analysed":7,"unchanged":0' "$T/scan4.json"
check "model id recorded" eq "$(q "$DB" "SELECT DISTINCT model_id FROM tracks")" fake-2
"$GS" rescan --db "$DB" --json --no-tags > "$T/rescan.json"
check "rescan without DIR re-analyses the whole index" grep -q '"analysed":7,"unchanged":0' "$T/rescan.json"
check "still one row per file" eq "$(q "$DB" 'SELECT count(*) FROM tracks')" 7

# ---- tags: dry run, user genres, overwrite, multi ------------------------
U="$T/user"; mkdir -p "$U"
tone "$U/tagged.flac" $F_JAZZ 2
metaflac --set-tag=GENRE=Ambient "$U/tagged.flac" 2>/dev/null || sox "$U/tagged.flac" --comment GENRE=Ambient "$U/t2.flac" 2>/dev/null
sum_before=$(md5sum < "$U/tagged.flac")
"$GS" scan --db "$T/u.sqlite" --dry-run "$U" > "$T/dry.txt"
check "dry run changes no file" eq "$(md5sum < "$U/tagged.flac")" "$sum_before"
check "dry run creates no index" test ! -e "$T/u.sqlite"
if command -v metaflac >/dev/null; then
    "$GS" scan --db "$T/u.sqlite" --json "$U" > "$T/user.json"
    check "user genre kept" grep -q '"tag":"kept-existing"' "$T/user.json"
    check "kept file unchanged" eq "$(md5sum < "$U/tagged.flac")" "$sum_before"
    "$GS" rescan --db "$T/u.sqlite" --overwrite --multi --multi-threshold 0.1 --json "$U" > "$T/over.json"
    check "--overwrite replaces" grep -q '"tag":"written"' "$T/over.json"
    # Jazz's neighbours Hip-Hop and Metal score equally (a pure tone halfway).
    check "--multi: top genre first" eq "$(metaflac --show-tag=GENRE "$U/tagged.flac" | head -1)" "GENRE=Jazz"
    check "--multi writes every genre above the threshold" \
        eq "$(metaflac --show-tag=GENRE "$U/tagged.flac" | sort | tr '\n' ' ')" "GENRE=Hip-Hop GENRE=Jazz GENRE=Metal "
    check "confidence field" grep -q GENRESCOPE_CONFIDENCE= <(metaflac --export-tags-to=- "$U/tagged.flac")
fi
printf 'jazz = Jazz & Swing\n' > "$T/names.conf"
tone "$U/named.wav" $F_JAZZ 1
"$GS" scan --db "$T/u.sqlite" --genre-names "$T/names.conf" --json "$U/named.wav" > "$T/names.json"
check "configurable display names" grep -q '"genre":"Jazz & Swing"' "$T/names.json"
# Every command that shows a genre takes the names, also query's listings.
"$GS" query --db "$T/u.sqlite" --genre-names "$T/names.conf" --json --tag-genre "Jazz & Swing" > "$T/names-q.json"
check "query --tag-genre listing shows the configured name" grep -q '"genre":"Jazz & Swing"' "$T/names-q.json"

# ---- discovery -----------------------------------------------------------
"$GS" similar --db "$DB" --json -c 3 "$L/a/jazz1.wav" > "$T/similar.json"
check "nearest to jazz1 is jazz2 (same pitch, other level and format)" \
    grep -q '"rank":1,"id":[0-9]*,"path":"[^"]*jazz2.flac"' "$T/similar.json"
check "similar -c 3" eq "$(wc -l < "$T/similar.json")" 3
check "similar never lists the query" bash -c "! grep -q 'jazz1.wav' '$T/similar.json'"
id=$(q "$DB" "SELECT id FROM tracks WHERE path LIKE '%hiphop1.wav'")
"$GS" similar --db "$DB" --json --genre Hip-Hop "$id" > "$T/simg.json"
check "similar by ID with --genre (display name)" eq "$(grep -c hiphop2.ogg "$T/simg.json")" 1
check "--genre filter" eq "$(wc -l < "$T/simg.json")" 1
check "similar JSON: genre and label" grep -q '"genre":"Hip-Hop","label":"hiphop"' "$T/simg.json"
# The similarity cache: written by the scan, equal to ranking every
# embedding in SQL, never used once the index changed behind it.
check "scan wrote the similarity cache" test -s "$DB.emb"
id1=$(q "$DB" "SELECT id FROM tracks WHERE path LIKE '%jazz1.wav'")
sql_rank() {
    q "$DB" "SELECT t.path FROM embeddings e JOIN tracks t ON t.id = e.track_id, embeddings s
             WHERE s.track_id = $id1 AND t.id != $id1 AND e.dim = s.dim ORDER BY t.path"
}
"$GS" similar --db "$DB" --json -c 100 "$id1" | sed 's/.*"path":"\([^"]*\)".*/\1/' | sort > "$T/sim_all"
check "similar lists every other analysed track" eq "$(cat "$T/sim_all")" "$(sql_rank)"
cp "$DB.emb" "$T/old.emb"
sqlite3 "$DB" "PRAGMA foreign_keys = ON; DELETE FROM tracks WHERE path LIKE '%classical1.wav'"
cp "$T/old.emb" "$DB.emb"
"$GS" similar --db "$DB" --json -c 100 "$id1" | sed 's/.*"path":"\([^"]*\)".*/\1/' | sort > "$T/sim_del"
check "a stale cache is not used: deleted track gone" eq "$(cat "$T/sim_del")" "$(sql_rank)"
check "a stale cache is rebuilt" bash -c "! cmp -s '$DB.emb' '$T/old.emb'"
"$GS" scan --db "$DB" --quiet "$L/b/deep" >/dev/null
"$GS" similar --db "$DB" --json -c 100 "$id1" | sed 's/.*"path":"\([^"]*\)".*/\1/' | sort > "$T/sim_back"
check "rescanned track back in similar" eq "$(cat "$T/sim_back")" "$(cat "$T/sim_all")"
"$GS" query --db "$DB" --json --genre jazz --min-confidence 0.5 > "$T/query.json"
check "query --genre jazz" eq "$(wc -l < "$T/query.json")" 2
check "query JSON: display name in genre, raw label in label" \
    eq "$(grep -c '"genre":"Jazz","label":"jazz"' "$T/query.json")" 2
"$GS" query --db "$DB" --json --mixed disco,hiphop --min-score 0.3 > "$T/mixed.json"
check "query --mixed finds the in-between tone" grep -q 'between.wav' "$T/mixed.json"
check "query --mixed only it" eq "$(wc -l < "$T/mixed.json")" 1
"$GS" query --db "$DB" --genre nosuchgenre 2> "$T/q.err"
check "unknown genre is a usage error" eq "$?" 2
check "unknown genre message lists genres" grep -q "the index knows" "$T/q.err"
"$GS" playlist --db "$DB" --seed "$L/a/jazz1.wav" --count 4 --out "$T/list.m3u8"
check "playlist M3U8 header" eq "$(head -1 "$T/list.m3u8")" "#EXTM3U"
check "playlist length" eq "$(grep -vc '^#' "$T/list.m3u8")" 4
check "playlist starts at the seed" eq "$(sed -n 3p "$T/list.m3u8")" "$(realpath "$L/a/jazz1.wav")"
check "playlist stays near: jazz2 second" grep -q jazz2.flac <(sed -n 5p "$T/list.m3u8")
check "playlist no repeats" eq "$(grep -v '^#' "$T/list.m3u8" | sort -u | wc -l)" 4
check "playlist leaves no partial file" test ! -e "$T/list.m3u8.partial"
"$GS" playlist --db "$DB" --seed "$L/a/jazz1.wav" --length 4 --out "$T/no-such-dir/list.m3u8" 2> "$T/pl_bad.err"
check "playlist into a missing folder fails" test $? -ne 0
check "playlist says why" grep -q "no-such-dir: No such file or directory" "$T/pl_bad.err"
"$GS" playlist --db "$DB" --seed "$L/a/jazz1.wav" -c 50 --json > "$T/list.json" 2>/dev/null
check "playlist stops at library size" eq "$(wc -l < "$T/list.json")" 7
check "playlist JSON: genre and label" grep -q '"genre":"Hip-Hop","label":"hiphop"' "$T/list.json"
"$GS" show --db "$DB" --json "$L/b/mix.wav" > "$T/show.json"
check "show timeline has 3 windows" eq "$(grep -o '"start"' "$T/show.json" | wc -l)" 3
check "timeline: jazz then classical" grep -q '"timeline":\[{"start":0,"end":30,"genre":"Jazz".*"genre":"Classical".*"genre":"Classical"' "$T/show.json"
check "show JSON: timeline labels, scores keyed by label" \
    grep -q '"scores":{"[a-z]*":.*"timeline":\[{"start":0,"end":30,"genre":"Jazz","label":"jazz"' "$T/show.json"
"$GS" show --db "$DB" "$L/b/mix.wav" > "$T/show.txt"
check "show text timeline" grep -q '0:30-1:00' "$T/show.txt"
"$GS" stats --db "$DB" --json > "$T/stats.json"
check "stats counts" grep -q '"tracks":7,"analysed":7,"failed":0' "$T/stats.json"
check "stats histogram" grep -q '"genre":"Jazz","label":"jazz","tracks":2' "$T/stats.json"
check "stats index size" grep -q '"index_bytes":[1-9]' "$T/stats.json"
"$GS" stats --db "$DB" > /dev/null
check "stats text" eq "$?" 0
"$GS" stats --db "$T/none.sqlite" 2> "$T/none.err"
check "stats on a missing index fails clearly" eq "$?" 3
check "missing index message" grep -q "no such index" "$T/none.err"

# ---- SQLite extension ----------------------------------------------------
# (An ASan-instrumented extension cannot load into the uninstrumented shell.)
if ldd "$EXT" | grep -q libasan; then echo "extension checks skipped in a sanitizer build"; else
sim=$(sqlite3 -batch -noheader "$DB" ".load ${EXT%.so}" \
  "SELECT t.path FROM embeddings e JOIN tracks t ON t.id = e.track_id
   WHERE t.path NOT LIKE '%jazz1.wav'
   ORDER BY genrescope_similarity(e.vector, (SELECT vector FROM embeddings JOIN tracks ON id = track_id WHERE path LIKE '%jazz1.wav')) DESC LIMIT 1")
check "loadable extension ranks jazz2 first" eq "$(basename "$sim")" jazz2.flac
self=$(sqlite3 -batch -noheader "$DB" ".load ${EXT%.so}" "SELECT round(genrescope_similarity(vector, vector), 4) FROM embeddings LIMIT 1")
check "self-similarity 1" eq "$self" 1.0
fi

# ---- shards and merge equal a single-machine scan -------------------------
M="$T/shardlib"; mkdir -p "$M/x" "$M/y"
for i in $(seq 1 12); do
    f=$(awk "BEGIN{print 55 * 2^($i % 8 + 0.5)}")
    tone "$M/x/t$i.wav" "$f" 1 0.$((i % 9 + 1))
done
tone "$M/y/long.wav" $F_BLUES 35
"$GS" scan --db "$T/single.sqlite" --no-tags -q "$M"
"$GS" scan --db "$T/s1.sqlite" --no-tags -q --shard 1/2 "$M"
"$GS" scan --db "$T/s2.sqlite" --no-tags -q --shard 2/2 "$M"
n1=$(q "$T/s1.sqlite" 'SELECT count(*) FROM tracks'); n2=$(q "$T/s2.sqlite" 'SELECT count(*) FROM tracks')
check "shards non-empty" test "$n1" -gt 0 -a "$n2" -gt 0
check "shards partition the files" eq "$((n1 + n2))" 13
check "shards disjoint" eq "$(q "$T/s1.sqlite" "ATTACH '$T/s2.sqlite' AS o; SELECT count(*) FROM tracks WHERE path IN (SELECT path FROM o.tracks)")" 0
"$GS" merge "$T/merged.sqlite" "$T/s1.sqlite" "$T/s2.sqlite" > /dev/null
check "merge exits 0" eq "$?" 0
dump() {
    q "$1" "SELECT path, size, mtime_ns, duration, format, model_id, top_genre, confidence, tag_status, error FROM tracks ORDER BY path;
            SELECT t.path, s.genre, s.score FROM scores s JOIN tracks t ON t.id = s.track_id ORDER BY 1, 2;
            SELECT t.path, e.dim, hex(e.vector) FROM embeddings e JOIN tracks t ON t.id = e.track_id ORDER BY 1;
            SELECT t.path, w.idx, w.start, w.end, w.top_genre, w.confidence, hex(w.probabilities) FROM windows w JOIN tracks t ON t.id = w.track_id ORDER BY 1, 2;
            SELECT * FROM genres ORDER BY 1"
}
check "merged index equals the single-machine index" cmp -s <(dump "$T/single.sqlite") <(dump "$T/merged.sqlite")
"$GS" merge "$T/merged.sqlite" "$T/s1.sqlite" > /dev/null
check "merging again is idempotent" cmp -s <(dump "$T/single.sqlite") <(dump "$T/merged.sqlite")
check "merged integrity" eq "$(q "$T/merged.sqlite" 'PRAGMA integrity_check')" ok

# ---- kill -9 mid-scan, then resume ----------------------------------------
K="$T/killlib"; mkdir -p "$K"
for i in $(seq 1 40); do cp "$M/x/t$((i % 12 + 1)).wav" "$K/k$i.wav"; done
GS_FAKE_DELAY_MS=60 "$GS" scan --db "$T/kill.sqlite" -q -j 2 --batch 5 "$K" &
pid=$!
sleep 0.9
kill -9 $pid; wait $pid 2>/dev/null
committed=$(q "$T/kill.sqlite" 'SELECT count(*) FROM tracks')
check "kill -9: index intact" eq "$(q "$T/kill.sqlite" 'PRAGMA integrity_check')" ok
check "kill -9: some batches committed, not all" test "$committed" -gt 0 -a "$committed" -lt 40
"$GS" scan --db "$T/kill.sqlite" --json -j 2 "$K" > "$T/resume.json"
check "resume skips what was committed" \
    grep -q "\"analysed\":$((40 - committed)),\"unchanged\":$committed" "$T/resume.json"
check "resume completes the library" eq "$(q "$T/kill.sqlite" 'SELECT count(*) FROM tracks WHERE error IS NULL')" 40
check "no temporary files left (stale ones from the kill are removed)" eq "$(find "$K" -name '.gs-tmp*' | wc -l)" 0
# Tags a killed scan wrote but never committed are recognised as ours
# (exactly our genre and confidence field), not taken for the user's. The
# kill must land after some tag writes and before their commit, so it is
# made exact rather than timed: one worker, batches of 10, and the process
# kills itself (SIGKILL) as the 16th analysis starts. Files 1-10 are
# committed (the writer has five analyses' time to do it), 11-15 are
# analysed and tagged but not committed.
KT="$T/killtags"; mkdir -p "$KT"
for i in $(seq 1 20); do cp "$M/x/t$((i % 12 + 1)).wav" "$KT/k$i.wav"; done
# (In a subshell, so the shell's "Killed" notice does not clutter the log.)
{
    (GS_FAKE_KILL_AT=16 GS_FAKE_DELAY_MS=60 exec "$GS" scan --db "$T/killtags.sqlite" -q -j 1 --batch 10 "$KT")
    rc=$?
} 2> /dev/null
check "self-kill: died of SIGKILL" eq "$rc" 137
check "self-kill: the first batch was committed, the second was not" \
    eq "$(q "$T/killtags.sqlite" 'SELECT count(*) FROM tracks')" 10
"$GS" scan --db "$T/killtags.sqlite" --json -j 1 "$KT" > "$T/killtags.json"
check "kill -9: our uncommitted tags are still ours" \
    eq "$(q "$T/killtags.sqlite" "SELECT count(*) FROM tracks WHERE tag_status = 'already-tagged' AND tag_genre IS NULL")" 0
check "kill -9: the resumed scan found the five it tagged before the kill" \
    eq "$(q "$T/killtags.sqlite" "SELECT count(*) FROM tracks WHERE tag_status = 'already-tagged' AND tag_genre IS NOT NULL")" 5
check "kill -9: and tagged the other five itself (ten written before)" \
    eq "$(q "$T/killtags.sqlite" "SELECT count(*) FROM tracks WHERE tag_status = 'written'")" 15

# One scan per index at a time: the second says so and changes nothing.
K2="$T/locklib"; mkdir -p "$K2"
for i in $(seq 1 10); do cp "$M/x/t$((i % 12 + 1)).wav" "$K2/l$i.wav"; done
GS_FAKE_DELAY_MS=100 "$GS" scan --db "$T/lock.sqlite" -q -j 1 "$K2" &
first=$!
sleep 0.4
"$GS" scan --db "$T/lock.sqlite" -q "$K2" 2> "$T/lock.err"
check "a second scan of the same index exits 3" eq "$?" 3
check "...saying another scan is running" grep -q "another scan is using" "$T/lock.err"
"$GS" scan --db "$T/lock.sqlite" --dry-run -q "$K2"
check "a dry run may look meanwhile" eq "$?" 0
wait $first
check "the first scan completes" eq "$?" 0
check "...with every file once" eq "$(q "$T/lock.sqlite" 'SELECT count(*) FROM tracks')" 10

# Ctrl-C: commits what is done, exits 130, resumes.
GS_FAKE_DELAY_MS=60 "$GS" scan --db "$T/int.sqlite" -q -j 1 --no-tags "$K" &
pid=$!
sleep 0.7
kill -INT $pid; wait $pid
check "SIGINT exit status 130" eq "$?" 130
n=$(q "$T/int.sqlite" 'SELECT count(*) FROM tracks')
check "SIGINT keeps finished files" test "$n" -gt 0 -a "$n" -lt 40

finish
