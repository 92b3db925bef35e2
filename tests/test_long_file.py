"""A 3-hour file is analysed in bounded memory: the whole `genrescope
classify` process stays under 64 MB resident (issue: core/audio streaming).

Generates 3 h of 16 kHz mono FLAC at test time, classifies it with a small
fixture model running at 8 kHz (so the resampler is in the path) and checks
peak RSS of the child process, the analysed duration and the window count.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

build = os.environ["GS_BUILD_DIR"]
base = os.environ.get("GS_TEST_TMP", tempfile.gettempdir())
os.makedirs(base, exist_ok=True)
tmp = tempfile.mkdtemp(prefix="long_file.", dir=base)
audio = os.path.join(tmp, "three_hours.flac")
model = os.path.join(tmp, "model.safetensors")
seconds = 3 * 3600

subprocess.run([f"{build}/tests/gs_write_fixture_model", model], check=True)
subprocess.run([f"{build}/tests/gs_make_test_audio", audio, str(seconds), "16000", "1"], check=True)
proc = subprocess.Popen([f"{build}/tagger/genrescope", "classify", "--json", "--model", model, audio],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
stdout, stderr = proc.stdout.read(), proc.stderr.read()
# wait4 gives this child's own peak RSS, not the maximum over all children.
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
peak_kb = usage.ru_maxrss
shutil.rmtree(tmp)
failures = 0
if proc.returncode != 0:
    print("classify failed:", stderr)
    sys.exit(1)
row = json.loads(stdout)
print(f"peak_rss_mb: {peak_kb / 1024:.1f}")
print(f"duration: {row['duration']:.1f} s, windows: {len(row['windows'])}, patches: {row['patches']}")
if peak_kb >= 64 * 1024:
    print("FAIL: classify used 64 MB or more")
    failures += 1
if abs(row["duration"] - seconds) > 1.0:
    print("FAIL: wrong duration")
    failures += 1
if len(row["windows"]) != seconds // 5:  # the fixture model's windows are 5 s
    print("FAIL: wrong window count")
    failures += 1
if row["genre"] is None:
    print("FAIL: no verdict")
    failures += 1
sys.exit(1 if failures else 0)
