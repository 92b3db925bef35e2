#!/usr/bin/env bash
# `genrescope classify`: text and JSON output, exit codes, one clear stderr
# line per failed file. Uses a generated model and generated audio.
set -u
build=${GS_BUILD_DIR:?}
tmp=$(mktemp -d "${GS_TEST_TMP:-/tmp}/cli_classify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cli=$build/tagger/genrescope
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

"$build/tests/gs_write_fixture_model" "$tmp/model.safetensors" || { echo "cannot write model"; exit 1; }
# 6 s of tones + noise at 8 kHz, and 1 s of silence, as WAV via sox-free python
/usr/bin/python3 - "$tmp" <<'PY'
import math, random, struct, sys, wave
d = sys.argv[1]
def write(name, samples, rate=8000):
    with wave.open(f"{d}/{name}", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(s * 32767)))) for s in samples))
random.seed(1)
write("music.wav", [0.4 * math.sin(2 * math.pi * 330 * i / 8000) + random.uniform(-0.2, 0.2) for i in range(48000)])
write("silence.wav", [0.0] * 8000)
write("short.wav", [0.5 * math.sin(2 * math.pi * 500 * i / 8000) for i in range(1000)])
PY
printf 'not audio at all\n' > "$tmp/fake.mp3"
odd=$(printf '%s/caf\351 "q".wav' "$tmp")   # a Latin-1 name: not valid UTF-8
cp "$tmp/music.wav" "$odd"

out=$("$cli" classify --model "$tmp/model.safetensors" "$tmp/music.wav")
check "exit 0 for a good file" "[ $? -eq 0 ]"
# People read display names (labels a, b, c have no configured name: capitalised).
check "text names the file and a genre's display name" "echo \"\$out\" | grep -Eq '^$tmp/music.wav: [ABC] [0-9.]+%'"

json=$("$cli" classify --json --model "$tmp/model.safetensors" "$tmp/music.wav" "$tmp/silence.wav" "$tmp/short.wav")
check "json exit 0" "[ $? -eq 0 ]"
check "json fields" "echo \"\$json\" | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 3, rows
m, s, sh = rows
for r in rows:
    assert set([\"path\", \"genre\", \"confidence\", \"probabilities\"]) <= set(r), r
assert m[\"label\"] in (\"a\", \"b\", \"c\") and m[\"genre\"] == m[\"label\"].upper() and abs(sum(m[\"probabilities\"].values()) - 1) < 1e-4
assert m[\"probabilities\"][m[\"label\"]] == m[\"confidence\"]
assert m[\"confidence\"] == max(m[\"probabilities\"].values())
assert s[\"genre\"] is None and s[\"label\"] is None and s[\"silent\"] and s[\"confidence\"] == 0
assert sh[\"padded\"] and sh[\"genre\"] is not None
assert abs(m[\"duration\"] - 6.0) < 1e-6 and m[\"patches\"] > 0 and m[\"model\"]
assert [(w[\"start\"], w[\"end\"]) for w in m[\"windows\"]] == [(0, 5), (5, 6)]
assert all(w[\"label\"] in (\"a\", \"b\", \"c\") and w[\"genre\"] == w[\"label\"].upper() for w in m[\"windows\"])
'"

out=$("$cli" classify -c 2 --windows --model "$tmp/model.safetensors" "$tmp/music.wav")
check "-c 2 shows two genres" "echo \"\$out\" | head -1 | grep -Eq ': [ABC] [0-9.]+%, [ABC] [0-9.]+%  \\['"
check "--top (the older name of --count) still works" \
    "[ \"\$(\"$cli\" classify --top 2 --windows --model \"$tmp/model.safetensors\" \"$tmp/music.wav\")\" = \"\$out\" ]"
check "--windows prints one line per window" "[ \$(echo \"\$out\" | grep -c ' s  ') -eq 2 ]"

"$cli" classify --json --model "$tmp/model.safetensors" "$odd" | /usr/bin/python3 -c '
import json, os, sys
row = json.loads(sys.stdin.read())
assert os.path.exists(os.fsencode(row["path"])), row["path"]
'
check "non-UTF-8 file name: valid JSON that maps back to the file" "[ $? -eq 0 ]"

"$cli" classify --model "$tmp/model.safetensors" "$tmp/music.wav" >/dev/full 2>"$tmp/err3"
check "a failed write of the results is an error" "[ $? -ne 0 ] && [ -s '$tmp/err3' ]"

"$cli" classify --model "$tmp/model.safetensors" "$tmp/music.wav" "$tmp/fake.mp3" "$tmp/missing.flac" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "exit 1 when a file fails (as --help says)" "[ $rc -eq 1 ]"
check "good file still printed" "grep -q music.wav '$tmp/out'"
check "one stderr line per failure" "[ \$(wc -l < '$tmp/err') -eq 2 ] && grep -q fake.mp3 '$tmp/err' && grep -q missing.flac '$tmp/err'"

# A folder stands for its audio files, found as scan finds them: recursive,
# in path order, hidden folders and other files passed over; arguments keep
# their order.
mkdir -p "$tmp/lib/b-sub" "$tmp/lib/.hidden" "$tmp/empty"
cp "$tmp/music.wav" "$tmp/lib/a.wav"; cp "$tmp/short.wav" "$tmp/lib/b-sub/c.wav"
cp "$tmp/music.wav" "$tmp/lib/.hidden/h.wav"; printf 'notes\n' > "$tmp/lib/notes.txt"
"$cli" classify --json --model "$tmp/model.safetensors" "$tmp/silence.wav" "$tmp/lib" > "$tmp/lib.json"
check "a folder: exit 0" "[ $? -eq 0 ]"
check "a folder's audio files in path order, after the file named first" "/usr/bin/python3 - '$tmp' <<'PY'
import json, sys
t = sys.argv[1]
paths = [json.loads(l)['path'] for l in open(t + '/lib.json')]
assert paths == [t + '/silence.wav', t + '/lib/a.wav', t + '/lib/b-sub/c.wav'], paths
PY"
"$cli" classify --model "$tmp/model.safetensors" "$tmp/empty" > "$tmp/empty.out" 2> "$tmp/empty.err"
check "a folder without audio: exit 0, said on stderr" "[ $? -eq 0 ] && [ ! -s '$tmp/empty.out' ] && grep -q 'no audio files under' '$tmp/empty.err'"
cp "$tmp/fake.mp3" "$tmp/lib/b-sub/fake.mp3"
"$cli" classify --json --model "$tmp/model.safetensors" "$tmp/lib" > "$tmp/lib2.json" 2> "$tmp/lib2.err"
check "an undecodable file in a folder: exit 1, a failed row, the others classified" \
    "[ $? -eq 1 ] && grep -q '\"status\":\"failed\"' '$tmp/lib2.json' && [ \$(wc -l < '$tmp/lib2.json') -eq 3 ] && grep -q fake.mp3 '$tmp/lib2.err'"

"$cli" classify --model "$tmp/nope.safetensors" "$tmp/music.wav" 2>"$tmp/err2"
check "bad model path: exit 1 (as --help says), clearly" "[ $? -eq 1 ] && grep -q nope.safetensors '$tmp/err2'"
# Classifier weights that are huge but finite overflow the logits to Inf
# and the softmax to NaN: refused as a broken model, never a genre, never a
# tag (before, NaN passed --min-confidence and a tag was written).
/usr/bin/python3 - "$tmp/model.safetensors" "$tmp/huge.safetensors" <<'PY'
import json, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", data[:8])[0]
a, b = json.loads(data[8:8 + n])["fc.weight"]["data_offsets"]
data[8 + n + a:8 + n + b] = struct.pack("<f", 3e38) * ((b - a) // 4)
open(sys.argv[2], "wb").write(data)
PY
"$cli" classify --json --model "$tmp/huge.safetensors" "$tmp/music.wav" >"$tmp/huge.out" 2>"$tmp/huge.err"
check "a model with NaN output fails the file" "[ $? -eq 1 ] && grep -q 'non-finite probability' '$tmp/huge.err'"
check "...with a failed JSON row (no genre) in scan's form" "[ \$(wc -l < '$tmp/huge.out') -eq 1 ] && grep -q '^{\"path\":\"[^\"]*music.wav\",\"status\":\"failed\",\"error\":\"[^/]*non-finite' '$tmp/huge.out' && ! grep -q genre '$tmp/huge.out'"
cp "$tmp/music.wav" "$tmp/tagme.wav"
"$cli" scan --db "$tmp/huge.sqlite" --model "$tmp/huge.safetensors" --min-confidence 0 --json "$tmp/tagme.wav" >"$tmp/huge-scan.json" 2>&1
check "scan with that model writes no tag" "grep -q '\"status\":\"failed\"' '$tmp/huge-scan.json' && ! grep -q '\"tag\":\"written\"' '$tmp/huge-scan.json'"
check "...and the file is unchanged" "cmp -s '$tmp/music.wav' '$tmp/tagme.wav'"

"$cli" classify >/dev/null 2>&1
check "no files is a usage error (2)" "[ $? -eq 2 ]"
grep -q -- "--json" < <("$cli" classify --help)
check "--help documents --json" "[ $? -eq 0 ]"
exit $fail
