#!/usr/bin/env bash
# The bundle's TTL validates against the LV2 specification (sord_validate
# with lv2-dev's own TTL), a deliberately broken copy does not, and lv2info
# lists both plugins with every port, the genre scale points (one per genre label
# of the bundled model, by its display name from models/genre-names.conf,
# as the tagger writes it into tags) and the presets.
set -euo pipefail
bundle="$GS_LV2_DIR/genrescope.lv2"
uri="$GS_PLUGIN_URI"
for tool in sord_validate lv2info dpkg; do
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

labels=$(/usr/bin/python3 - "$bundle/model.safetensors" "$GS_SOURCE_DIR/models/genre-names.conf" <<'PY'
import json, re, struct, sys
with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    meta = json.loads(f.read(n))["__metadata__"]
names = {}
for line in open(sys.argv[2]):
    line = line.split("#")[0].strip()
    if line:
        label, name = (s.strip() for s in line.split("=", 1))
        names[label.lower()] = name
labels = json.loads(meta["labels"])
not_music = meta.get("not_music_label", "").strip('"')
# Line 1: the number of labels (one probability port each); then the display
# names of the genres (one scale point each; the not-music label has none).
print(len(labels))
print("\n".join(names.get(l.lower(), l[:1].upper() + l[1:]) for l in labels if l != not_music))
PY
)
nlabels=$(head -n 1 <<< "$labels")
labels=$(tail -n +2 <<< "$labels")

for variant in mono stereo; do
  info=$(LV2_PATH="$GS_LV2_DIR" lv2info "$uri#$variant")
  naudio=$([ $variant = mono ] && echo 2 || echo 4)
  nports=$(echo "$info" | grep -c '^	Port [0-9]*:')
  if [ "$nports" -ne $((naudio + 7 + nlabels)) ]; then
    echo "FAIL: $variant has $nports ports, expected $((naudio + 7 + nlabels))"; fail=1
  fi
  for sym in window update smoothing genre confidence fill latency; do
    grep -q "Symbol: *$sym\$" <<< "$info" || { echo "FAIL: $variant lacks port $sym"; fail=1; }
  done
  while read -r label; do
    grep -Eq "^[[:space:]]+[0-9]+ = \"$label\"\$" <<< "$info" ||
      { echo "FAIL: $variant: no scale point for $label"; fail=1; }
  done <<< "$labels"
  grep -q -- '-1 = "none"' <<< "$info" || { echo "FAIL: $variant: no 'none' scale point"; fail=1; }
  if grep -q '"Not music"$' <<< "$info"; then echo "FAIL: $variant: 'Not music' is a genre scale point"; fail=1; fi
  grep -q "Has latency: *yes" <<< "$info" || { echo "FAIL: $variant: latency port not reported"; fail=1; }
  for preset in "Full 30 s window" "Quick 10 s look" "DJ booth"; do
    grep -q "$preset" <<< "$info" || { echo "FAIL: $variant: preset '$preset' missing"; fail=1; }
  done
  echo "$variant: $nports ports, $nlabels labels checked"
done
exit $fail
