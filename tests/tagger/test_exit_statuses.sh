#!/bin/bash
# Every exit status each command's --help documents, made to happen: the
# statuses are read from --help itself, so a status documented without a
# case here (or a case for one no longer documented) fails the test.
# (classify is not in the test build; test_cli_classify covers its 0, 1, 2.)
set -u
. "$(dirname "$0")/lib.sh"
L="$T/lib"; mkdir -p "$L"
tone "$L/a.wav" $F_JAZZ 2
tone "$L/b.wav" $F_CLASSICAL 2
DB="$T/index.sqlite"
"$GS" scan --db "$DB" -q "$L" || { echo "setup scan failed"; exit 1; }
MISSING="$T/no-such-index.sqlite"
NEWER="$T/newer.sqlite"
sqlite3 "$NEWER" "CREATE TABLE x(y); PRAGMA user_version = 99"
BAD="$T/bad"; mkdir -p "$BAD"
tone "$BAD/good.wav" $F_JAZZ 2
echo "not audio" > "$BAD/broken.wav"
echo "x" > "$T/a-file"
printf 'bogus_key = 1\n' > "$T/bad.conf"

# case_CMD_STATUS: runs CMD so that it must exit STATUS (output discarded).
case_scan_0() { "$GS" scan --db "$T/s0.sqlite" -q "$L"; }
case_scan_1() { "$GS" scan --db "$T/s1.sqlite" -q "$BAD"; }
case_scan_2() { "$GS" scan --db "$T/s2.sqlite" -q "$T/no-such-dir"; }
case_scan_3() { "$GS" scan --db "$NEWER" -q "$L"; }
case_scan_130() {
    GS_FAKE_DELAY_MS=3000 "$GS" scan --db "$T/s130.sqlite" -q -j 1 "$L" & local pid=$!
    sleep 1; kill -INT $pid; wait $pid
}
case_rescan_0() { "$GS" rescan --db "$DB" -q "$L"; }
case_rescan_1() { "$GS" rescan --db "$T/s1.sqlite" -q "$BAD"; }
case_rescan_2() { "$GS" rescan --db "$DB" -q "$T/no-such-dir"; }
case_rescan_3() { "$GS" rescan --db "$NEWER" -q "$L"; }
case_rescan_130() {
    GS_FAKE_DELAY_MS=3000 "$GS" rescan --db "$DB" -q -j 1 "$L" & local pid=$!
    sleep 1; kill -INT $pid; wait $pid
}
case_show_0() { "$GS" show --db "$DB" "$L/a.wav"; }
case_show_1() { "$GS" show --db "$DB" "$T/a-file"; }
case_show_2() { "$GS" show --db "$DB" --no-such-option "$L/a.wav"; }
case_show_3() { "$GS" show --db "$MISSING" "$L/a.wav"; }
case_similar_0() { "$GS" similar --db "$DB" "$L/a.wav"; }
case_similar_1() { "$GS" similar --db "$DB" "$T/a-file"; }
case_similar_2() { "$GS" similar --db "$DB" --genre no-such-genre "$L/a.wav"; }
case_similar_3() { "$GS" similar --db "$MISSING" "$L/a.wav"; }
case_query_0() { "$GS" query --db "$DB" --genre jazz; }
case_query_2() { "$GS" query --db "$DB" --genre no-such-genre; }
case_query_3() { "$GS" query --db "$MISSING" --genre jazz; }
case_playlist_0() { "$GS" playlist --db "$DB" --seed "$L/a.wav" --out "$T/p0.m3u8"; }
case_playlist_1() { "$GS" playlist --db "$DB" --seed "$T/a-file" --out "$T/p1.m3u8"; }
case_playlist_2() { "$GS" playlist --db "$DB" --out "$T/p2.m3u8"; }
case_playlist_3() { "$GS" playlist --db "$DB" --seed "$L/a.wav" --out "$T/a-file/p3.m3u8"; }
case_stats_0() { "$GS" stats --db "$DB"; }
case_stats_2() { "$GS" stats --db "$DB" extra-argument; }
case_stats_3() { "$GS" stats --db "$MISSING"; }
case_merge_0() { "$GS" merge "$T/m0.sqlite" "$DB"; }
case_merge_2() { "$GS" merge "$DB" "$DB"; }
case_merge_3() { "$GS" merge "$T/m3.sqlite" "$MISSING"; }
case_prune_0() { "$GS" prune --db "$DB"; }
case_prune_2() { "$GS" prune --db "$DB" --no-such-option; }
case_prune_3() { "$GS" prune --db "$MISSING"; }
case_config_0() { "$GS" config; }
case_config_2() { GENRESCOPE_CONFIG="$T/bad.conf" "$GS" config; }

commands=$("$GS" --help | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
check "the command list is read from --help" test "$(wc -w <<< "$commands")" -ge 10
documented=""
for cmd in $commands; do
    [ "$cmd" = classify ] && continue
    [ "$cmd" = help ] && continue
    statuses=$("$GS" "$cmd" --help | sed -n '/^exit status:$/,$s/^  \([0-9]\+\) .*/\1/p')
    check "$cmd documents its exit statuses" test -n "$statuses"
    for status in $statuses; do
        documented="$documented case_${cmd}_$status"
        if ! declare -F "case_${cmd}_$status" > /dev/null; then
            check "$cmd: a case for the documented exit status $status" false
            continue
        fi
        "case_${cmd}_$status" > "$T/out" 2> "$T/err"
        check "$cmd exits $status as documented" eq "$?" "$status"
        # Every failure says why on stderr: a "genrescope [CMD]: " message, or
        # for a scan the file that failed.
        if [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; then
            check "$cmd $status: a message on stderr" grep -Eq "^genrescope( $cmd)?: |^failed: $BAD/broken.wav" "$T/err"
        fi
    done
done
for f in $(declare -F | awk '{print $3}' | grep '^case_'); do
    check "$f tests a documented status" grep -qw "$f" <<< "$documented"
done

finish
