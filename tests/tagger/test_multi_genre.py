#!/usr/bin/python3
"""Several genres, read back the way each format's readers read them (with
mutagen, the tag library of beets, Picard and Quod Libet, not TagLib):
ID3v2.4 a TCON list; ID3v2.3 one text without numeric "(8)(0)" references;
MP4 one ©gen value (players show the first of several); WAV's ID3 chunk a
list and its INFO IGNR the same genres; FLAC, Ogg Vorbis and Opus repeated
GENRE fields. A second write of the same genres changes nothing, and a
separator makes one string everywhere.

usage: test_multi_genre.py TAG_TOOL"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
try:
    import mutagen.flac
    import mutagen.id3
    import mutagen.mp4
    import mutagen.oggopus
    import mutagen.oggvorbis
    import mutagen.wave
except ImportError:
    print("python3-mutagen not installed: skipped")
    sys.exit(SKIP)
if not shutil.which("ffmpeg"):
    print("ffmpeg not installed: skipped")
    sys.exit(SKIP)

tool = sys.argv[1]
failures = checks = 0


def check(what, ok, detail=""):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
        print(f"FAILED: {what} {detail}", file=sys.stderr)


def make(path, *extra):
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    "-metadata", "title=Keep me", *extra, path], check=True)


def tag(path, *genres, sep="-"):
    return subprocess.run([tool, "write", path, sep, *genres], capture_output=True, text=True).stdout.strip()


def riff_info_genre(path):
    data = open(path, "rb").read()
    i = 12
    while i + 8 <= len(data):
        cid, size = data[i:i + 4], struct.unpack("<I", data[i + 4:i + 8])[0]
        if cid == b"LIST" and data[i + 8:i + 12] == b"INFO":
            j, end = i + 12, i + 8 + size
            while j + 8 <= end:
                sid, ssize = data[j:j + 4], struct.unpack("<I", data[j + 4:j + 8])[0]
                if sid == b"IGNR":
                    return data[j + 8:j + 8 + ssize].rstrip(b"\0").decode("utf-8")
                j += 8 + ssize + (ssize & 1)
        i += 8 + size + (size & 1)
    return None


def tcon(path):
    tags = mutagen.id3.ID3(path, translate=False)
    frames = tags.getall("TCON")
    return tags.version, (frames[0].text if frames else None)


def vorbis(cls):
    return lambda path: cls(path).tags["genre"]


with tempfile.TemporaryDirectory(prefix="test_multi_genre.", dir=os.environ.get("GS_TEST_TMP")) as tmp:
    cases = {
        "v24.mp3": ((), lambda p: tcon(p), ((2, 4, 0), ["Jazz", "Blues"])),
        "v23.mp3": (("-id3v2_version", "3"), lambda p: tcon(p), ((2, 3, 0), ["Jazz; Blues"])),
        "aac.m4a": (("-c:a", "aac"), lambda p: mutagen.mp4.MP4(p).tags["\xa9gen"], ["Jazz; Blues"]),
        "pcm.wav": ((), lambda p: (mutagen.wave.WAVE(p).tags.getall("TCON")[0].text, riff_info_genre(p)),
                    (["Jazz", "Blues"], "Jazz; Blues")),
        "lossless.flac": ((), vorbis(mutagen.flac.FLAC), ["Jazz", "Blues"]),
        "vorbis.ogg": (("-c:a", "libvorbis"), vorbis(mutagen.oggvorbis.OggVorbis), ["Jazz", "Blues"]),
        "speech.opus": (("-c:a", "libopus"), vorbis(mutagen.oggopus.OggOpus), ["Jazz", "Blues"]),
    }
    for name, (extra, read, want) in cases.items():
        path = os.path.join(tmp, name)
        make(path, *extra)
        out = tag(path, "Jazz", "Blues")
        check(f"{name}: written", out == "written", out)
        try:
            got = read(path)
        except Exception as e:  # a reader that cannot parse the file is a failure too
            got = repr(e)
        check(f"{name}: read back as its readers expect", got == want, f"got {got!r}, want {want!r}")
        if name == "v23.mp3":
            check("v23.mp3: no numeric genre references", "(" not in "".join(got[1] or []), repr(got))
        back = subprocess.run([tool, "read", path], capture_output=True, text=True).stdout
        check(f"{name}: genrescope reads its own genres", back.startswith("Jazz; Blues\t0.900"), repr(back))
        again = tag(path, "Jazz", "Blues")
        check(f"{name}: the same genres again change nothing", again == "already-tagged", again)
        if name in ("v24.mp3", "lossless.flac"):
            title = (mutagen.id3.ID3(path).getall("TIT2")[0].text[0] if name.endswith(".mp3")
                     else mutagen.flac.FLAC(path)["title"][0])
            check(f"{name}: other tags kept", title == "Keep me", title)

    # One string for players that show one, in a list format too.
    path = os.path.join(tmp, "one-string.flac")
    make(path)
    out = tag(path, "Jazz", "Blues", sep=" / ")
    check("separator: written", out == "written", out)
    got = mutagen.flac.FLAC(path)["genre"]
    check("separator: one GENRE field", got == ["Jazz / Blues"], repr(got))
    check("separator: the same again changes nothing", tag(path, "Jazz", "Blues", sep=" / ") == "already-tagged")

print(f"test_multi_genre.py: {checks} checks, {failures} failed")
sys.exit(1 if failures else 0)
