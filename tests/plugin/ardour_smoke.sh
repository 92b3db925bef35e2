#!/usr/bin/env bash
# Real host: Ardour's headless Lua session tool (ardour7-lua, package
# "ardour") runs ardour_smoke.lua on the Dummy backend. Skips when Ardour
# is not installed or the Sanitize build's plugin cannot be loaded.
set -uo pipefail
command -v ardour7-lua >/dev/null || { echo "SKIP: ardour7-lua not installed (apt-get install ardour)"; exit 77; }
if [ "${GS_BUILD_TYPE:-}" = Sanitize ]; then
  echo "SKIP: an ASan-instrumented plugin cannot be loaded by Ardour"; exit 77
fi
tmp=$(mktemp -d "${GS_TEST_TMP:-/tmp}/ardour.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GS_SESSION_DIR="$tmp/session" GS_PLUGIN_URI
# Which control port carries "not music" (7 + its label index; none: -1).
GS_NOT_MUSIC_PORT=$(/usr/bin/python3 - "$GS_LV2_DIR/genrescope.lv2/model.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["__metadata__"]
nm = meta.get("not_music_label", "").strip('"')
labels = json.loads(meta["labels"])
print(7 + labels.index(nm) if nm in labels else -1)
PY
)
export GS_NOT_MUSIC_PORT
export HOME="$tmp"   # Ardour writes its config under ~/.config
out=$(LV2_PATH="$GS_LV2_DIR" timeout 90 ardour7-lua "$(dirname "$0")/ardour_smoke.lua" 2>&1)
rc=$?
echo "$out" | grep -vi "^\s*$" | tail -n 20
grep -q GS_ARDOUR_OK <<< "$out" && exit 0
echo "FAIL: ardour7-lua exit $rc"
exit 1
