#!/bin/bash
# We write only where we were told (issue: reliability, write paths), run as
# root as CI runs it: playlist --out onto devices, FIFOs, directories,
# symlinks and planted temporary names; "-" as standard output; tags written
# through a symlinked track; working copies left by a dead tag writer
# removed whatever their PID, live ones kept. /dev/null must still be a
# character device at the end.
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
command -v flock >/dev/null || { echo "flock not installed: skipped"; exit 77; }
genre() { metaflac --show-tag=GENRE "$1" | sed 's/^GENRE=//' | tr '\n' ' '; }
is_null_device() { [ -c /dev/null ] && [ "$(stat -c %t:%T /dev/null)" = "1:3" ]; }

L="$T/lib"; mkdir -p "$L" "$T/outside"
tone "$L/jazz1.flac" $F_JAZZ 2
tone "$L/jazz2.flac" $F_JAZZ 2 0.3
tone "$L/hiphop.flac" $F_HIPHOP 2
tone "$T/outside/real.flac" $F_CLASSICAL 2
ln -s ../outside/real.flac "$L/linked.flac"
DB="$T/index.sqlite"
"$GS" scan --db "$DB" -q "$L"
check "scan exits 0" eq "$?" 0

# ---- tags through a symlink ----------------------------------------------
check "the symlinked track is still a symlink" test -L "$L/linked.flac"
check "its target got the tag" eq "$(genre "$T/outside/real.flac")" "Classical "
check "no working copy next to the link or the target" \
    eq "$(find "$L" "$T/outside" -name '.gs-*' | wc -l)" 0

# ---- playlist --out ------------------------------------------------------
pl() { timeout 20 "$GS" playlist --db "$DB" --seed "$L/jazz1.flac" --count 3 "$@"; }
pl --out /dev/null > "$T/null.out" 2> "$T/null.err"
check "--out /dev/null refused" test $? -ne 0
check "...saying what it is" grep -q "/dev/null is a character device, not a regular file" "$T/null.err"
check "/dev/null is still the null device" is_null_device

ln -s /dev/null "$T/to-null"
pl --out "$T/to-null" 2> "$T/tonull.err"
check "--out onto a symlink to a device refused" test $? -ne 0
check "...the link is untouched" eq "$(readlink "$T/to-null")" /dev/null
check "/dev/null is still the null device (via link)" is_null_device

mkfifo "$T/fifo"
pl --out "$T/fifo" 2> "$T/fifo.err"
rc=$?
check "--out onto a FIFO refused without blocking" test $rc -ne 0 -a $rc -ne 124
check "...saying so" grep -q "is a FIFO" "$T/fifo.err"
check "...still a FIFO" test -p "$T/fifo"

mkdir "$T/adir"
pl --out "$T/adir" 2> /dev/null
check "--out onto a directory refused" test $? -ne 0
check "...still an empty directory" rmdir "$T/adir"

echo "keep me" > "$T/victim"
ln -s "$T/victim" "$T/mix.m3u8.partial"    # the old fixed temporary name
ln -s "$T/victim" "$T/.gs-0000000000000000.tmp"
pl --out "$T/mix.m3u8"
check "playlist written" eq "$(head -1 "$T/mix.m3u8")" "#EXTM3U"
check "a planted temporary name redirected nothing" eq "$(cat "$T/victim")" "keep me"

echo "old list" > "$T/real-list.m3u8"; chmod 0640 "$T/real-list.m3u8"
ln -s real-list.m3u8 "$T/list-link.m3u8"
pl --out "$T/list-link.m3u8"
check "--out through a symlink writes its target" eq "$(head -1 "$T/real-list.m3u8")" "#EXTM3U"
check "...the link stays a link" test -L "$T/list-link.m3u8"
check "...the target keeps its mode" eq "$(stat -c %a "$T/real-list.m3u8")" 640

(cd "$T" && pl --out - > "$T/stdout.m3u8")
check "--out - writes standard output" eq "$(head -1 "$T/stdout.m3u8")" "#EXTM3U"
check "...and no file named -" test ! -e "$T/-"
check "no temporary files left by playlist" eq "$(find "$T" -maxdepth 1 -name '.gs-*' ! -name '.gs-0000000000000000.tmp' | wc -l)" 0

# ---- working copies left by a tag writer ----------------------------------
# A copy from a writer that died as PID 1 (a container), with the old name
# format, and one with the current format: both unlocked, both removed, and
# the file they belonged to is tagged.
U="$T/lib2"; mkdir -p "$U"
tone "$U/song.flac" $F_JAZZ 2
cp "$U/song.flac" "$U/.gs-tmp-1-song.flac"
cp "$U/song.flac" "$U/.gs-tmp-0123456789abcdef-song.flac"
# One a live writer holds (flock), which must survive the walk.
cp "$U/song.flac" "$U/.gs-tmp-fedcba9876543210-song.flac"
# (exec: the holder is the process that has the lock, so killing it frees it)
( exec 9< "$U/.gs-tmp-fedcba9876543210-song.flac"; flock 9; exec sleep 30 ) &
holder=$!
sleep 0.3
"$GS" scan --db "$T/index2.sqlite" --json "$U" > "$T/scan2.json"
check "scan with leftovers exits 0" eq "$?" 0
check "dead writers' copies removed (PID 1 name too)" \
    test ! -e "$U/.gs-tmp-1-song.flac" -a ! -e "$U/.gs-tmp-0123456789abcdef-song.flac"
check "a live writer's copy kept" test -e "$U/.gs-tmp-fedcba9876543210-song.flac"
check "the song is tagged" eq "$(genre "$U/song.flac")" "Jazz "
check "leftovers are never tracks" eq "$(q "$T/index2.sqlite" 'SELECT count(*) FROM tracks')" 1
kill $holder 2>/dev/null; wait $holder 2>/dev/null
"$GS" scan --db "$T/index2.sqlite" -q "$U"
check "released, it goes on the next scan" test ! -e "$U/.gs-tmp-fedcba9876543210-song.flac"

# A device or FIFO under our prefix is not ours to remove or open.
mkfifo "$U/.gs-tmp-fifo-x.flac"
timeout 20 "$GS" scan --db "$T/index2.sqlite" -q "$U"
check "scan does not block on a FIFO under our prefix" test $? -ne 124
check "...and leaves it alone" test -p "$U/.gs-tmp-fifo-x.flac"

# A FIFO with an audio name in the library is reported, never opened.
mkfifo "$U/pipe.mp3"
timeout 20 "$GS" scan --db "$T/index2.sqlite" --json "$U" > "$T/scan3.json" 2>&1
check "scan does not block on a FIFO named .mp3" test $? -ne 124
check "...it is reported as skipped" grep -q '"path":"[^"]*pipe.mp3","status":"skipped","error":"a FIFO, not a regular file: skipped"' "$T/scan3.json"

# SIGTERM during a save that never ends (a test knob stalls the save's
# child process): the scan stops at once, the file is untouched, no copy
# is left behind.
S="$T/lib3"; mkdir -p "$S"
tone "$S/stall.flac" $F_JAZZ 2
before=$(md5sum < "$S/stall.flac")
GS_TAG_TEST_STALL_SAVE=1 "$GS" scan --db "$T/index3.sqlite" --json "$S" > "$T/stall.json" 2>&1 &
pid=$!
for i in $(seq 1 50); do ls -A "$S" | grep -q '^\.gs-tmp' && break; sleep 0.1; done
check "the stalled save is under way" test "$(ls -A "$S" | grep -c '^\.gs-tmp')" -eq 1
kill -TERM $pid
t0=$(date +%s)
wait $pid
rc=$?
check "SIGTERM stops the scan during a save (exit 130)" eq "$rc" 130
check "...promptly" test $(( $(date +%s) - t0 )) -lt 5
check "...the file is untouched" eq "$(md5sum < "$S/stall.flac")" "$before"
check "...and no working copy is left" eq "$(ls -A "$S" | grep -c '^\.gs-tmp')" 0
check "...the tag is reported failed" grep -q '"tag":"failed","tag_detail":"not tagged: interrupted; file left untouched"' "$T/stall.json"

# An index on a device or FIFO: refused before SQLite could put a journal
# next to it (--db /dev/null once made /dev/null-journal). A null device
# of our own in $T, so that a regression writes nothing in /dev.
if mknod "$T/nulldev" c 1 3 2> /dev/null; then
    "$GS" scan --db "$T/nulldev" -q "$S" 2> "$T/dbnull.err"
    check "--db onto a character device is refused" test $? -ne 0
    check "...saying what it is" grep -q "nulldev is a character device, not an index file" "$T/dbnull.err"
    check "...and no journal appears next to it" test ! -e "$T/nulldev-journal" -a ! -e "$T/nulldev-wal"
fi
mkfifo "$T/db.fifo"
timeout 20 "$GS" stats --db "$T/db.fifo" > /dev/null 2>&1
check "--db FIFO fails without blocking" test $? -ne 0 -a $? -ne 124

check "/dev/null is still the null device at the end" is_null_device
finish
