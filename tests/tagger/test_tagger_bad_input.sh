#!/bin/bash
# Every bad input of the tagger issue: clear message, right exit status,
# nothing indexed lost, no file half-written.
set -u
. "$(dirname "$0")/lib.sh"

L="$T/lib"; mkdir -p "$L/good" "$L/bad"
tone "$L/good/ok1.wav" $F_JAZZ 1
tone "$L/good/ok2.wav" $F_HIPHOP 1
for i in 1 2 3; do echo "definitely not audio $i" ; done > "$L/bad/text.mp3"
: > "$L/bad/empty.wav"
tone "$T/full.wav" $F_JAZZ 2
head -c 30 "$T/full.wav" > "$L/bad/header-cut.wav"
head -c 20000 "$T/full.wav" > "$L/bad/data-cut.wav"
tone "$L/bad/readonly.wav" $F_CLASSICAL 1
chmod 0444 "$L/bad/readonly.wav"
sums() { (cd "$L/bad" && md5sum text.mp3 empty.wav header-cut.wav readonly.wav); }
before=$(sums)
DB="$T/index.sqlite"

"$GS" scan --db "$DB" --json -j 2 "$L" > "$T/scan.json" 2> "$T/scan.err"
rc=$?
check "failures make exit status 1" eq "$rc" 1
check "good files indexed" eq "$(q "$DB" "SELECT count(*) FROM tracks WHERE error IS NULL AND path LIKE '%/good/%'")" 2
check "non-audio .mp3 fails as not audio" grep -q '"path":"[^"]*text.mp3","status":"failed"' "$T/scan.json"
check "zero-length file: clear reason" grep -q '"path":"[^"]*empty.wav","status":"failed","error":"empty file (0 bytes)"' "$T/scan.json"
check "header-truncated file fails" grep -q '"path":"[^"]*header-cut.wav","status":"failed"' "$T/scan.json"
check "data-truncated file is handled (analysed what is there or failed)" \
    grep -Eq '"path":"[^"]*data-cut.wav","status":"(analysed|failed)"' "$T/scan.json"
check "read-only file indexed but not tagged, and says so" \
    grep -q '"path":"[^"]*readonly.wav","status":"analysed".*"tag":"read-only","tag_detail":"file is read-only; indexed but not tagged"' "$T/scan.json"
check "failures by reason in the summary" grep -q '"failed_by_reason":{"not audio or corrupt":3}' "$T/scan.json"
check "failed files keep no half-written tag: bad files byte-identical" eq "$(sums)" "$before"
check "errors recorded in the index" eq "$(q "$DB" 'SELECT count(*) FROM tracks WHERE error IS NOT NULL')" 3
"$GS" scan --db "$DB" --json "$L" > "$T/again.json" 2>/dev/null
check "failed files retried on the next scan, others skipped" grep -q '"analysed":0,"unchanged":4,.*"failed":3' "$T/again.json"
"$GS" scan --db "$DB" "$L" > "$T/text.out" 2> "$T/text.err"
check "text mode names each failure on stderr" eq "$(grep -c '^failed: ' "$T/text.err")" 3
check "text summary by reason" grep -q 'failed: 3 (3 not audio or corrupt)' "$T/text.out"
"$GS" scan --db "$DB" -q "$L" > "$T/quiet.out" 2> "$T/quiet.err"
check "--quiet: no summary" test ! -s "$T/quiet.out"
check "--quiet still names each failure on stderr" eq "$(grep -c '^failed: ' "$T/quiet.err")" 3

# ---- a damaged index is refused, not built upon ---------------------------
D="$T/damaged"; mkdir -p "$D/lib"
for i in 1 2 3 4 5 6; do tone "$D/lib/t$i.wav" $((300 * i)) 1; done
"$GS" scan --db "$D/i.sqlite" -q --no-tags "$D/lib"
q "$D/i.sqlite" 'PRAGMA wal_checkpoint(TRUNCATE);' > /dev/null
for off in 4100 12300 20500 28700; do
    head -c 2000 /dev/zero | dd of="$D/i.sqlite" bs=1 seek=$off conv=notrunc 2> /dev/null
done
"$GS" scan --db "$D/i.sqlite" -q --no-tags "$D/lib" 2> "$D/scan.err"
check "scan on a damaged index exits 3" eq "$?" 3
check "...saying it is damaged and what to do" grep -q "the index is damaged (.*); restore a backup or scan into a new index with --db" "$D/scan.err"

# ---- permission denied (needs a non-root user: root reads anything) -------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    P=$(mktemp -d /tmp/gs-perm.XXXXXX); chmod 0777 "$P"
    mkdir -p "$P/lib/locked"
    tone "$P/lib/open.wav" $F_JAZZ 1
    tone "$P/lib/secret.wav" $F_JAZZ 1
    tone "$P/lib/locked/inside.wav" $F_JAZZ 1
    chmod 0644 "$P/lib/open.wav"; chmod 0600 "$P/lib/secret.wav"; chmod 0700 "$P/lib/locked"
    chmod 0777 "$P/lib"
    setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$P" \
        "$GS" scan --db "$P/index.sqlite" --json --no-tags "$P/lib" > "$T/perm.json" 2>&1
    rc=$?
    check "permission denied: exit 1" eq "$rc" 1
    check "permission denied reported" grep -q '"path":"[^"]*secret.wav","status":"failed","error":"Permission denied"' "$T/perm.json"
    check "unreadable directory skipped with a reason" grep -q '"path":"[^"]*locked","status":"skipped","error":"Permission denied"' "$T/perm.json"
    check "readable file still indexed" grep -q '"path":"[^"]*open.wav","status":"analysed"' "$T/perm.json"
    rm -rf "$P"
else
    echo "permission-denied checks skipped (need root and setpriv to drop privileges)"
fi

# ---- directory removed during the scan ------------------------------------
R="$T/removing"; mkdir -p "$R/a" "$R/z"
for i in 1 2 3 4 5 6; do cp "$L/good/ok1.wav" "$R/a/$i.wav"; cp "$L/good/ok2.wav" "$R/z/$i.wav"; done
GS_FAKE_DELAY_MS=100 "$GS" scan --db "$T/rm.sqlite" --json -j 1 --no-tags "$R" > "$T/rm.json" &
pid=$!
sleep 0.35
rm -rf "$R/z"
wait $pid
check "removed directory: exit 1" eq "$?" 1
check "files of the removed directory fail as missing" \
    eq "$(grep -c '"status":"failed","error":"No such file or directory"' "$T/rm.json")" 6
check "the rest is indexed" eq "$(q "$T/rm.sqlite" 'SELECT count(*) FROM tracks WHERE error IS NULL')" 6
"$GS" scan --db "$T/rm.sqlite" --json "$T/does-not-exist" > /dev/null 2> "$T/noroot.err"
check "missing root: usage error" eq "$?" 2
check "missing root message" grep -q "does-not-exist: No such file or directory" "$T/noroot.err"
"$GS" scan --db "$T/never.sqlite" "$T/does-not-exist" > /dev/null 2>&1
check "a scan of a missing path creates no index" test ! -e "$T/never.sqlite"

# ---- locked database ------------------------------------------------------
count=$(q "$DB" 'SELECT count(*) FROM tracks')
/usr/bin/python3 - "$DB" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(3)
c.execute("ROLLBACK")
PY
lockpid=$!
for _ in $(seq 50); do [ -e "$DB.locked" ] && break; sleep 0.1; done
touch "$L/good/ok1.wav"
"$GS" scan --db "$DB" --busy-timeout 300 --no-tags "$L" > /dev/null 2> "$T/locked.err"
check "locked database: exit 3" eq "$?" 3
check "locked database: clear message" grep -q "database is locked (another genrescope is writing it?" "$T/locked.err"
wait $lockpid
check "locked database: nothing lost" eq "$(q "$DB" 'SELECT count(*) FROM tracks')" "$count"

# ---- newer schema, foreign and corrupt databases --------------------------
cp "$DB" "$T/newer.sqlite"
q "$T/newer.sqlite" 'PRAGMA user_version = 99'
s=$(md5sum < "$T/newer.sqlite")
"$GS" scan --db "$T/newer.sqlite" "$L" > /dev/null 2> "$T/newer.err"
check "newer schema: exit 3" eq "$?" 3
check "newer schema: message" grep -q "schema version 99, newer than this genrescope understands (6); upgrade genrescope" "$T/newer.err"
check "newer schema: file untouched" eq "$(md5sum < "$T/newer.sqlite")" "$s"
"$GS" stats --db "$T/newer.sqlite" > /dev/null 2>&1
check "newer schema: read commands refuse too" eq "$?" 3
q "$T/foreign.sqlite" 'CREATE TABLE mine(x)'
"$GS" scan --db "$T/foreign.sqlite" "$L" > /dev/null 2> "$T/foreign.err"
check "foreign SQLite file refused" grep -q "not a Genrescope index; refusing to modify it" "$T/foreign.err"
head -c 8192 /dev/urandom > "$T/garbage.sqlite"
"$GS" scan --db "$T/garbage.sqlite" "$L" > /dev/null 2> "$T/garbage.err"
check "corrupt index: exit 3" eq "$?" 3
check "corrupt index: message" grep -q "file is not a database" "$T/garbage.err"

# ---- disk full (a small private tmpfs; needs mount rights) -----------------
if unshare -m true 2>/dev/null; then
    F="$T/full"; mkdir -p "$F/mnt" "$F/lib"
    for i in $(seq 1 60); do cp "$T/full.wav" "$F/lib/$i.wav"; done
    cp "$T/full.wav" "$F/fresh.wav"
    unshare -m bash -s "$GS" "$F" > "$T/full.out" 2>&1 <<'SH'
GS=$1; F=$2
mount -t tmpfs -o size=400k tmpfs "$F/mnt" || exit 77
# Index on the tmpfs: a first batch fits, then the disk fills.
"$GS" scan --db "$F/mnt/index.sqlite" -q --no-tags "$F/lib/1.wav" "$F/lib/2.wav" || exit 10
# Leave room for a few batches only, so the disk fills mid-scan.
free_k=$(df --output=avail -k "$F/mnt" | tail -1)
dd if=/dev/zero of="$F/mnt/filler" bs=1k count=$((free_k - 48)) 2>/dev/null
"$GS" scan --db "$F/mnt/index.sqlite" -q --no-tags --batch 5 "$F/lib" 2> "$F/scan.err"
echo "rc=$?"
echo "integrity=$(sqlite3 "$F/mnt/index.sqlite" 'PRAGMA integrity_check')"
echo "rows=$(sqlite3 "$F/mnt/index.sqlite" 'SELECT count(*) FROM tracks')"
cat "$F/scan.err"
# Library on a full tmpfs: tagging must fail cleanly, never half-write.
rm -f "$F/mnt/filler" "$F/mnt/index.sqlite"*
cp "$F/fresh.wav" "$F/mnt/song.wav"
before=$(md5sum < "$F/mnt/song.wav")
dd if=/dev/zero of="$F/mnt/filler" bs=1k count=400 2>/dev/null
"$GS" scan --db "$F/tags.sqlite" --json "$F/mnt/song.wav" | head -1
echo "song=$([ "$(md5sum < "$F/mnt/song.wav")" = "$before" ] && echo unchanged || echo CHANGED)"
echo "tmp=$(ls -A "$F/mnt" | grep -c gs-tmp)"
SH
    if [ $? -ne 77 ] && grep -q '^rc=' "$T/full.out"; then
        check "disk full: exit 3" grep -qx 'rc=3' "$T/full.out"
        check "disk full: index intact" grep -qx 'integrity=ok' "$T/full.out"
        check "disk full: earlier rows kept" grep -Eqx 'rows=([2-9]|[1-5][0-9])' "$T/full.out"
        check "disk full: clear message" grep -q "database or disk is full (free some space; everything committed before is intact)" "$T/full.out"
        check "disk full while tagging: reported" grep -q '"tag":"failed"' "$T/full.out"
        check "disk full while tagging: file untouched" grep -qx 'song=unchanged' "$T/full.out"
        check "disk full while tagging: no temporary left" grep -qx 'tmp=0' "$T/full.out"
    else
        echo "disk-full checks skipped (cannot mount a tmpfs here)"; cat "$T/full.out"
    fi
else
    echo "disk-full checks skipped (no mount namespace)"
fi

finish
