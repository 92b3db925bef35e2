#!/usr/bin/env bash
# The bundle's TTL validates against the LV2 specification (sord_validate
# with lv2-dev's own TTL), a deliberately broken copy does not; it says what
# its one definition (ttl/bundle.json, presets/presets.json) says, port by port, with the
# version, license, maintainer and presets (check_ttl.py), and lv2info lists
# both plugins with every port, the genre scale points (one per genre label
# of the bundled model, by its display name from models/genre-names.conf,
# as the tagger writes it into tags) and the presets. A bundle generated for
# another plugin URI carries its presets along to that URI, and the
# generator refuses a port range hosts reject.
set -euo pipefail
bundle="$GS_LV2_DIR/genrescope.lv2"
uri="$GS_PLUGIN_URI"
for tool in sord_validate sordi lv2info dpkg cmake; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f "$bundle/manifest.ttl" ] || { echo "no bundle at $bundle"; exit 1; }
mapfile -t specs < <(dpkg -L lv2-dev | grep '\.ttl$')
[ "${#specs[@]}" -gt 10 ] || { echo "SKIP: lv2-dev TTL not found"; exit 77; }

fail=0
out=$(sord_validate "${specs[@]}" "$bundle"/*.ttl 2>&1) || true
echo "$out" | tail -n 3
if ! grep -q "Found 0 errors" <<< "$out"; then
  echo "FAIL: sord_validate reports errors"; fail=1
fi

# The validator must be able to fail on this bundle: break one port.
tmp=$(mktemp -d "${GS_TEST_TMP:-/tmp}/validate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sed '0,/lv2:minimum 3.0/s//lv2:minimum "three"/' "$bundle/genrescope.ttl" > "$tmp/genrescope.ttl"
bad=$(sord_validate "${specs[@]}" "$bundle/manifest.ttl" "$tmp/genrescope.ttl" 2>&1) || true
if grep -q "Found 0 errors" <<< "$bad"; then
  echo "FAIL: sord_validate accepted a broken TTL"; fail=1
fi

def="$GS_SOURCE_DIR/ttl/bundle.json"
presets="$GS_SOURCE_DIR/presets/presets.json"
names="$GS_SOURCE_DIR/models/genre-names.conf"
check_ttl() { PYTHONPATH="$(dirname "$0")" /usr/bin/python3 "$(dirname "$0")/check_ttl.py" "$@"; }
check_ttl "$bundle" "$def" "$names" "$uri" || { echo "FAIL: the TTL differs from $def"; fail=1; }
# ...and check_ttl.py must be able to fail: rename one port in a copy.
mkdir "$tmp/renamed"
cp "$bundle"/*.ttl "$bundle/model.safetensors" "$tmp/renamed/"
sed -i '0,/lv2:name "Window fill"/s//lv2:name "Fill"/' "$tmp/renamed/genrescope.ttl"
if check_ttl "$tmp/renamed" "$def" "$names" "$uri" > "$tmp/renamed.log"; then
  echo "FAIL: check_ttl.py accepted a renamed port"; fail=1
fi

# What lv2info must list, from the definition: per variant the port count,
# every control symbol and the preset labels; then the genre display names.
expected=$(PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$def" "$bundle/model.safetensors" "$names" "$uri" <<'PY'
import sys
from bundle_def import Bundle, display_name
b = Bundle(*sys.argv[1:5])
print(f"maintainer {b.defn['maintainer']}")
for v in b.variants():
    print(f"ports {v} {len(b.ports(v))}")
for c in b.controls:
    print(f"symbol {c['symbol']}")
for _, label, _ in b.presets():
    print(f"preset {label}")
for i, l in enumerate(b.labels):
    if i != b.not_music:
        print(f"genre {display_name(b.names, l)}")
PY
)
field() { grep "^$1 " <<< "$expected" | cut -d' ' -f2-; }

for variant in mono stereo; do
  info=$(LV2_PATH="$GS_LV2_DIR" lv2info "$uri#$variant")
  want=$(field ports | awk -v v=$variant '$1 == v {print $2}')
  nports=$(echo "$info" | grep -c '^	Port [0-9]*:')
  if [ -z "$want" ] || [ "$nports" -ne "$want" ]; then
    echo "FAIL: $variant has $nports ports, expected ${want:-none}"; fail=1
  fi
  while read -r sym; do
    grep -q "Symbol: *$sym\$" <<< "$info" || { echo "FAIL: $variant lacks port $sym"; fail=1; }
  done < <(field symbol)
  while read -r label; do
    grep -Eq "^[[:space:]]+[0-9]+ = \"$label\"\$" <<< "$info" ||
      { echo "FAIL: $variant: no scale point for $label"; fail=1; }
  done < <(field genre)
  grep -q -- '-1 = "none"' <<< "$info" || { echo "FAIL: $variant: no 'none' scale point"; fail=1; }
  if grep -q '"Not music"$' <<< "$info"; then echo "FAIL: $variant: 'Not music' is a genre scale point"; fail=1; fi
  grep -q "Has latency: *yes" <<< "$info" || { echo "FAIL: $variant: latency port not reported"; fail=1; }
  grep -q "Author: *$(field maintainer)\$" <<< "$info" || { echo "FAIL: $variant: author not shown"; fail=1; }
  while read -r preset; do
    grep -q "$preset" <<< "$info" || { echo "FAIL: $variant: preset '$preset' missing"; fail=1; }
  done < <(field preset)
  echo "$variant: $nports ports checked"
done

# The plugin URI is a build setting (GS_PLUGIN_URI): a bundle generated for
# another URI must carry everything, presets included, to that URI.
other="http://example.org/gs-validate-test/plugin"
mkdir "$tmp/other.lv2"
cmake -DMODEL="$bundle/model.safetensors" -DOUT_HEADER="$tmp/gs_plugin_bundle.h" \
      -DBUNDLE_DIR="$tmp/other.lv2" -DDEFINITION="$def" \
      -DPRESETS="$presets" -DTEMPLATE="$GS_SOURCE_DIR/ttl/genrescope.ttl.in" -DBINARY=genrescope.so -DURI="$other" \
      -DGENRE_NAMES="$names" -P "$GS_SOURCE_DIR/plugin/gen_bundle.cmake" ||
  { echo "FAIL: gen_bundle.cmake for $other"; fail=1; }
cp "$bundle/model.safetensors" "$bundle/genrescope.so" "$tmp/other.lv2/"
check_ttl "$tmp/other.lv2" "$def" "$names" "$other" || { echo "FAIL: bundle for $other"; fail=1; }
if grep -q "$uri" "$tmp"/other.lv2/*.ttl; then echo "FAIL: $uri left in the bundle for $other"; fail=1; fi
grep -q "GS_PLUGIN_URI_BASE \"$other\"" "$tmp/gs_plugin_bundle.h" || { echo "FAIL: header URI"; fail=1; }
# The generator refuses what hosts reject: a latency port whose range is
# empty (0..0, as before issue 12) must stop the build, with the reason.
/usr/bin/python3 - "$def" "$tmp/empty-range.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
next(c for c in d["controls"] if c["symbol"] == "latency")["maximum"] = "0"
json.dump(d, open(sys.argv[2], "w"))
PY
mkdir "$tmp/empty-range.lv2"
if gen=$(cmake -DMODEL="$bundle/model.safetensors" -DOUT_HEADER="$tmp/empty-range.h" \
               -DBUNDLE_DIR="$tmp/empty-range.lv2" -DDEFINITION="$tmp/empty-range.json" \
               -DPRESETS="$presets" -DTEMPLATE="$GS_SOURCE_DIR/ttl/genrescope.ttl.in" -DBINARY=genrescope.so -DURI="$uri" \
               -DGENRE_NAMES="$names" -P "$GS_SOURCE_DIR/plugin/gen_bundle.cmake" 2>&1) ||
   ! tr -s ' \n' ' ' <<< "$gen" | grep -q "port latency needs minimum < maximum"; then
  echo "FAIL: gen_bundle.cmake accepted a latency range of 0..0: $gen"; fail=1
fi
mkdir "$tmp/lv2" && mv "$tmp/other.lv2" "$tmp/lv2/"
other_info=$(LV2_PATH="$tmp/lv2" lv2info "$other#stereo")
while read -r preset; do
  grep -q "$preset" <<< "$other_info" || { echo "FAIL: $other: preset '$preset' missing"; fail=1; }
done < <(field preset)
exit $fail
