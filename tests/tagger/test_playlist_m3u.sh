#!/bin/bash
# Playlists every player reads as meant: valid UTF-8, one entry per file
# whatever the file is called (a newline in a name must not split an entry
# or inject one; a Latin-1 name must not make the file invalid), paths
# relative to --relative-to DIR on request, and "Artist - Title" from the
# tags. Checked by parsing the playlist back.
set -u
. "$(dirname "$0")/lib.sh"
command -v metaflac >/dev/null || { echo "metaflac not installed: skipped"; exit 77; }
L="$T/lib"; mkdir -p "$L/sub dir"
DB="$T/index.sqlite"
tone "$L/seed.flac" $F_JAZZ 3
metaflac --set-tag=ARTIST=Nina --set-tag=TITLE=Tune "$L/seed.flac"
tone "$L/sub dir/plain.flac" $F_JAZZ 3 0.4
tone "$L/line"$'\n'"break.flac" $F_JAZZ 3 0.3
tone "$L/latin1-"$'\xe9'".flac" $F_JAZZ 3 0.35
tone "$L/#EXTM3U"$'\n'"#EXTINF:1,evil"$'\n'"http:x.flac" $F_JAZZ 3 0.45
tone "$L/http:y.flac" $F_JAZZ 3 0.25
"$GS" scan --db "$DB" -q --no-tags "$L" || exit 1
check "six tracks indexed" eq "$(q "$DB" 'SELECT count(*) FROM tracks WHERE error IS NULL')" 6

parse() { # parse PLAYLIST [BASE_DIR]: prints one resolved path per entry, checks the form
    /usr/bin/python3 - "$@" <<'PY'
import os, sys, urllib.parse
path, base = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
data = open(path, "rb").read()
text = data.decode("utf-8")  # raises on invalid UTF-8
lines = text.split("\n")
assert lines[0] == "#EXTM3U", lines[0]
assert lines[-1] == "", "no final newline"
body = lines[1:-1]
assert len(body) % 2 == 0, body
for i in range(0, len(body), 2):
    info, loc = body[i], body[i + 1]
    assert info.startswith("#EXTINF:"), info
    assert not loc.startswith("#"), loc
    if loc.startswith("file://"):
        p = urllib.parse.unquote_to_bytes(loc[7:])
    else:
        assert ":" not in loc.split("/")[0], f"reads as a URL: {loc}"
        p = os.fsencode(loc if loc.startswith("/") else os.path.join(base or ".", loc))
    assert os.path.exists(p), f"entry {loc!r} is no file"
    print(info.split(",", 1)[1] + "\t" + repr(os.path.realpath(p)))
PY
}
"$GS" playlist --db "$DB" --seed "$L/seed.flac" --out "$T/list.m3u8" 2>/dev/null
check "playlist written" test -s "$T/list.m3u8"
parse "$T/list.m3u8" > "$T/entries.txt"
check "parses as UTF-8 M3U8 whose every entry is a file" eq "$?" 0
check "one entry per track" eq "$(wc -l < "$T/entries.txt")" 6
check "no entry was injected" eq "$(grep -cxE '#EXTINF:1,evil|http:x.flac' "$T/list.m3u8")" 0
check "each file once" eq "$(cut -f2 "$T/entries.txt" | sort -u | wc -l)" 6
check "the odd names became file:// URIs" eq "$(grep -c '^file://' "$T/list.m3u8")" 3
check "title from the tags" grep -q $'^Nina - Tune\t' "$T/entries.txt"
check "a plain name is a plain path" grep -qx "$L/sub dir/plain.flac" "$T/list.m3u8"

mkdir -p "$T/lists"
"$GS" playlist --db "$DB" --seed "$L/seed.flac" --relative-to "$T/lists" --out "$T/lists/rel.m3u8" 2>/dev/null
parse "$T/lists/rel.m3u8" "$T/lists" > "$T/rel.txt"
check "relative playlist parses, every entry a file" eq "$?" 0
check "relative paths from the playlist's folder" grep -qx "../lib/sub dir/plain.flac" "$T/lists/rel.m3u8"
check "relative: the same six files" eq "$(cut -f2 "$T/rel.txt" | sort)" "$(cut -f2 "$T/entries.txt" | sort)"
"$GS" playlist --db "$DB" --seed "$L/seed.flac" --relative-to "$L" 2>/dev/null > "$T/here.m3u8"
check "a file next to the playlist named like a URL keeps ./" grep -qx "./http:y.flac" "$T/here.m3u8"
"$GS" playlist --db "$DB" --seed "$L/seed.flac" --relative-to "$L/seed.flac" > /dev/null 2>&1
check "--relative-to a file is refused" eq "$?" 2
finish
