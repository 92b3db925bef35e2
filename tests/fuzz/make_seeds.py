#!/usr/bin/python3
"""Seed corpora and regression inputs for the fuzz targets, generated (no
binary audio is committed): small valid files of every format the targets
read, and the hostile inputs found by review, rebuilt from their recipe.

usage: make_seeds.py OUT_DIR BUILD_DIR SOURCE_DIR
Writes OUT_DIR/<target>/<name> for the targets model, audio, tag_writer,
genre_names and index. Audio and tag inputs start with one byte choosing
the file extension (see fuzz_audio.c and fuzz_tag_writer.c). Tools that are
missing (sox, ffmpeg, sqlite3) only shrink the corpus."""
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

out, build, source = sys.argv[1:4]
AUDIO_EXT = ["wav", "flac", "mp3", "ogg", "opus", "m4a", "aiff", "caf"]
TAG_EXT = ["mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff", "mp4"]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def have(tool):
    return shutil.which(tool) is not None


def wav_bytes(rate, samples, width=2, channels=1, fmt_float=False):
    """A WAV of the given samples; float WAVs by hand (wave cannot)."""
    if fmt_float:
        data = b"".join(struct.pack("<f", s) for s in samples)
        fmt = struct.pack("<HHIIHH", 3, channels, rate, rate * 4 * channels, 4 * channels, 32)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
        return b"RIFF" + struct.pack("<I", len(body)) + body
    path = os.path.join(tmp, "w.wav")
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) for s in samples))
    return open(path, "rb").read()


def tone(rate, seconds, freq=440.0):
    return [0.5 * math.sin(2 * math.pi * freq * i / rate) for i in range(int(rate * seconds))]


tmp = tempfile.mkdtemp()
try:
    # ---- audio files in every format ----------------------------------------
    base = os.path.join(tmp, "base.wav")
    open(base, "wb").write(wav_bytes(8000, tone(8000, 1.0)))
    files = {"wav": base}
    if have("sox"):
        for ext in ["flac", "aiff", "ogg"]:
            p = os.path.join(tmp, "base." + ext)
            if subprocess.run(["sox", base, p], capture_output=True).returncode == 0:
                files[ext] = p
    if have("ffmpeg"):
        for ext, codec in [("mp3", "libmp3lame"), ("m4a", "aac"), ("opus", "libopus"), ("caf", "pcm_s16le")]:
            p = os.path.join(tmp, "base." + ext)
            args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", base, "-c:a", codec]
            if ext == "opus":
                args += ["-ar", "48000"]
            if subprocess.run(args + [p], capture_output=True).returncode == 0:
                files[ext] = p
    for ext, p in files.items():
        data = open(p, "rb").read()
        put("audio", f"valid-{ext}", bytes([AUDIO_EXT.index(ext)]) + data)
        put("audio", f"truncated-{ext}", bytes([AUDIO_EXT.index(ext)]) + data[: len(data) // 2])
        if ext in TAG_EXT:
            put("tag_writer", f"valid-{ext}", bytes([TAG_EXT.index(ext)]) + data)
            put("tag_writer", f"truncated-{ext}", bytes([TAG_EXT.index(ext)]) + data[: len(data) * 2 // 3])
    # Reproducers from the reliability review, rebuilt:
    # a 1 Hz sample rate (buffers sized by the rate ratio);
    put("audio", "rate-1hz-wav", bytes([0]) + wav_bytes(1, [0.1] * 64))
    # finite but huge float samples (NaN after resampling);
    put("audio", "huge-floats-wav", bytes([0]) + wav_bytes(44100, [1e38 if i % 3 else -3e37 for i in range(4000)],
                                                           fmt_float=True))
    # NaN and Inf samples;
    put("audio", "nan-floats-wav", bytes([0]) + wav_bytes(8000, [float("nan"), float("inf")] * 2000, fmt_float=True))
    # an M4A whose chunk-offset table claims 0xFFFFFFF0 entries (TagLib wrote GBs).
    if "m4a" in files:
        data = bytearray(open(files["m4a"], "rb").read())
        i = data.find(b"stco")
        if i > 0:
            data[i + 8:i + 12] = b"\xff\xff\xff\xf0"
            put("tag_writer", "stco-count-huge-m4a", bytes([TAG_EXT.index("m4a")]) + bytes(data))
            put("audio", "stco-count-huge-m4a", bytes([AUDIO_EXT.index("m4a")]) + bytes(data))

    # ---- models --------------------------------------------------------------
    fixture = os.path.join(tmp, "fixture.safetensors")
    subprocess.run([os.path.join(build, "tests", "gs_write_fixture_model"), fixture], check=True)
    shipped = os.path.join(source, "models", "genrescope-gtzan.safetensors")
    for name, p in [("fixture", fixture), ("shipped", shipped)]:
        if not os.path.exists(p):
            continue
        data = open(p, "rb").read()
        put("model", name, data)
        n = struct.unpack("<Q", data[:8])[0]
        put("model", name + "-header-only", data[: 8 + n])
        put("model", name + "-truncated", data[: 8 + n + 100])
        header = data[8:8 + n]
        # Huge but finite weights: NaN probabilities in the network.
        if name == "fixture":
            body = bytearray(data[8 + n:])
            for k in range(0, len(body) - 3, 4):
                body[k:k + 4] = struct.pack("<f", 3e38)
            put("model", "fixture-huge-weights", data[:8 + n] + bytes(body))
        put("model", name + "-bad-length", struct.pack("<Q", n + 1000) + header)

    # ---- genres.conf ---------------------------------------------------------
    put("genre_names", "simple", b"# names\nhiphop = Hip Hop\nrock=Rock & Roll\n")
    put("genre_names", "long-comment", b"# " + b"x" * 2000 + b" jazz = Smooth\nblues = Delta\n")
    put("genre_names", "bad", b"no equals\n=\n a = \n" + "жанр = Джаз\n".encode())
    put("genre_names", "many", "".join(f"g{i} = Name {i}\n" for i in range(300)).encode())

    # ---- index ---------------------------------------------------------------
    fake = os.path.join(build, "tests", "genrescope_fake")
    if os.path.exists(fake) and have("sqlite3"):
        lib = os.path.join(tmp, "lib")
        os.makedirs(lib)
        for k, f in enumerate([311.0, 622.0, 1244.0]):
            open(os.path.join(lib, f"t{k}.wav"), "wb").write(wav_bytes(22050, tone(22050, 1.0, f)))
        db = os.path.join(tmp, "index.sqlite")
        env = dict(os.environ, HOME=tmp, XDG_DATA_HOME=tmp, XDG_CONFIG_HOME=tmp)
        subprocess.run([fake, "scan", "--db", db, "--no-tags", "-q", lib], check=True, env=env)
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;"],
                       capture_output=True, check=True)
        data = open(db, "rb").read()
        put("index", "valid", data)
        put("index", "truncated", data[: len(data) // 2])
        weird = os.path.join(tmp, "weird.sqlite")
        shutil.copy(db, weird)
        subprocess.run(["sqlite3", weird,
                        "UPDATE embeddings SET dim = 1000000 WHERE track_id = 1;"
                        "UPDATE embeddings SET vector = x'00' WHERE track_id = 2;"
                        "UPDATE tracks SET duration = 1e300, confidence = 'nan' WHERE id = 3;"],
                       capture_output=True, check=True)
        put("index", "wrong-values", open(weird, "rb").read())
finally:
    shutil.rmtree(tmp)
