#!/usr/bin/env bash
# Real host: jalv (JACK) on a private jackd with the dummy backend. The sine
# tones of jack_simple_client are fed to the stereo plugin for ~6 s with a
# 3 s window; jalv's console "monitors" command then must show an answer
# (a genre, or "none" with the not-music probability at least the model's
# not-music threshold: a tone is not silence), a full window and latency 0.
# The plugin and its presets are found through LV2_PATH, as a user would.
set -uo pipefail
for tool in jalv jackd jack_wait jack_lsp jack_connect jack_simple_client; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
if [ "${GS_BUILD_TYPE:-}" = Sanitize ]; then
  echo "SKIP: an ASan-instrumented plugin cannot be loaded by jalv"; exit 77
fi
# JACK keeps its server registry, shared memory and semaphores in /dev/shm
# and leaves them there when a client dies, which filled the machine's
# /dev/shm with stale servers until jackd would no longer start. So the test
# runs in a mount namespace of its own with a private /dev/shm: nothing is
# written outside it.
if [ -z "${GS_JALV_PRIVATE_SHM:-}" ]; then
  unshare -m --propagation private true 2>/dev/null ||
    { echo "SKIP: cannot make a private /dev/shm for JACK (unshare -m needs root)"; exit 77; }
  exec unshare -m --propagation private env GS_JALV_PRIVATE_SHM=1 \
    bash -c 'mount -t tmpfs gs_jalv_shm /dev/shm && exec bash "$0" "$@"' "$0" "$@"
fi
uri="$GS_PLUGIN_URI#stereo"
tmp=$(mktemp -d "${GS_TEST_TMP:-/tmp}/jalv.XXXXXX")
export JACK_DEFAULT_SERVER="gs_plugin_test_$$"
export JACK_NO_AUDIO_RESERVATION=1
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

jackd --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 1024 > "$tmp/jackd.log" 2>&1 &
pids+=($!)
if ! jack_wait -w -t 10 > /dev/null; then
  echo "SKIP: jackd (dummy backend) did not start"; cat "$tmp/jackd.log"; exit 77
fi
jack_simple_client > /dev/null 2>&1 &
pids+=($!)

# jalv reads console commands from stdin: ask for the presets at once and
# for the output values after the tone has played for a while.
( sleep 1; echo presets; sleep 7; echo monitors; sleep 1 ) |
  LV2_PATH="$GS_LV2_DIR" timeout 30 jalv -n gs_jalv -c window=3 -c update=0.5 -c smoothing=0 "$uri" \
  > "$tmp/jalv.log" 2>&1 &
jalv_pid=$!
pids+=($jalv_pid)
for _ in $(seq 50); do
  grep -q '^gs_jalv:in_r$' < <(jack_lsp 2>/dev/null) && break
  sleep 0.1
done
src=$(jack_lsp 2>/dev/null | grep '^jack_simple_client:' | head -n 2)
[ "$(echo "$src" | wc -l)" -eq 2 ] || { echo "FAIL: tone client ports missing"; jack_lsp; exit 1; }
jack_connect "$(echo "$src" | sed -n 1p)" gs_jalv:in_l
jack_connect "$(echo "$src" | sed -n 2p)" gs_jalv:in_r
wait "$jalv_pid"
log=$(cat "$tmp/jalv.log")
echo "$log" | tail -n 25

value() { echo "$log" | grep -E "^(> )?$1 = " | tail -n 1 | sed -E 's/.* = //'; }
fail=0
genre=$(value genre); conf=$(value confidence); fill=$(value fill); lat=$(value latency)
[ -n "$genre" ] || { echo "FAIL: jalv printed no output controls"; exit 1; }
# A steady two-tone signal: the plugin must answer, either with a genre
# (an integer, confidence in (0, 1]) or with "none" because it is not music
# (confidence 0, the not-music probability at least the bundled model's
# not-music threshold, 0.5 unless it carries one).
nm=$(value prob_notmusic)
nm_min=$(/usr/bin/python3 - "$GS_LV2_DIR/genrescope.lv2/model.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
print(json.loads(meta.get("not_music_decision", '{"min_probability": 0.5}'))["min_probability"])
PY
) || { echo "FAIL: cannot read the bundled model's not-music threshold"; exit 1; }
awk -v g="$genre" -v c="$conf" -v m="${nm:--1}" -v t="$nm_min" 'BEGIN {
  exit !((g >= 0 && g == int(g) && c > 0 && c <= 1) || (g == -1 && c == 0 && m >= t)) }' ||
  { echo "FAIL: genre $genre confidence $conf not-music ${nm:-?}"; fail=1; }
awk -v f="$fill" 'BEGIN { exit !(f == 1) }' || { echo "FAIL: fill $fill"; fail=1; }
awk -v l="$lat" 'BEGIN { exit !(l == 0) }' || { echo "FAIL: latency $lat"; fail=1; }
for preset in "Full 30 s window" "Quick 10 s look" "DJ booth"; do
  grep -q "$preset" <<< "$log" || { echo "FAIL: jalv does not list preset '$preset'"; fail=1; }
done
echo "jalv: genre=$genre confidence=$conf fill=$fill latency=$lat"
exit $fail
