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
export HOME="$tmp"   # Ardour writes its config under ~/.config
out=$(LV2_PATH="$GS_LV2_DIR" timeout 90 ardour7-lua "$(dirname "$0")/ardour_smoke.lua" 2>&1)
rc=$?
echo "$out" | grep -vi "^\s*$" | tail -n 20
grep -q GS_ARDOUR_OK <<< "$out" && exit 0
echo "FAIL: ardour7-lua exit $rc"
exit 1
