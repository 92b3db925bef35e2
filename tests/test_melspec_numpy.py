#!/usr/bin/python3
"""Compares the C log-mel front-end (via gs_mel_dump) with an independent
float64 numpy implementation computed here.

The reference is written from the definitions, not from the C code: its own
Slaney mel scale, triangles built with numpy.interp, its own periodic Hann,
numpy.fft.rfft in float64 and a dense filterbank product.

What is compared, exactly:
  * Features. P = mel_power + log_offset. The C tool outputs ln(P) as
    float32; we take P_c = exp(float64(ln_c)) and compare it with the
    reference P_ref by  rel = |P_c - P_ref| / max(P_ref, floor_t)  and
    require rel <= 1e-4 for every frame t and band m.
    floor_t = 1e-5 * max_m P_ref[t, m]. Why: the C side is single-precision
    FFTW, whose round-off per bin is ~1e-7 of the frame's largest spectral
    magnitude; a bin whose power is a fraction r of the peak then carries a
    relative power error ~2e-7/sqrt(r), which exceeds 1e-4 only for r below a
    few 1e-6. Such bands (Hann sidelobes far from a pure tone) are compared
    against the floor instead: their absolute error must stay below
    1e-4 * 1e-5 of the frame's peak band power.
    Because d ln P = dP / P, the same bound is a bound of ~1e-4 on the
    absolute error of the log features outside the floor.
  * Filterbank: |fb_c - fb_ref| <= 1e-6 * max(fb_ref row) for every weight.
  * Streaming: gs_mel_push/gs_mel_pull with pseudo-random blocks gives
    byte-identical frames to gs_mel_compute, and its per-frame RMS matches
    numpy's to 1e-5 relative (floor 1e-12 for digital silence).

Exit status: 0 pass, 1 fail, 77 skipped (numpy or the tool missing).
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("numpy not available: skipped")
    sys.exit(77)

FEATURE_RTOL = 1e-4
FEATURE_FLOOR = 1e-5
FILTERBANK_TOL = 1e-6
RMS_RTOL = 1e-5
STREAM_MAX_BLOCK = 5000

# (sample_rate, n_fft, hop, n_mels, fmin, fmax, log_offset)
PARAM_SETS = [
    (22050, 1024, 512, 96, 0.0, 11025.0, 1e-6),
    (16000, 512, 160, 64, 50.0, 8000.0, 1e-6),
    (44100, 2048, 441, 128, 0.0, 22050.0, 1e-6),
    (8000, 256, 100, 40, 20.0, 3900.0, 1e-3),
]


def slaney_hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    linear = 3.0 * hz / 200.0
    logpart = 15.0 + 27.0 * np.log(np.maximum(hz, 1e-300) / 1000.0) / np.log(6.4)
    return np.where(hz < 1000.0, linear, logpart)


def slaney_mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    linear = 200.0 * mel / 3.0
    logpart = 1000.0 * np.power(6.4, (mel - 15.0) / 27.0)
    return np.where(mel < 15.0, linear, logpart)


def reference_filterbank(sr, n_fft, n_mels, fmin, fmax):
    freqs = np.arange(n_fft // 2 + 1) * (sr / n_fft)
    edges = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(fmin), slaney_hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, freqs.size))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        # Slaney normalisation: each triangle has unit area over Hz.
        fb[m] = np.interp(freqs, [lo, mid, hi], [0.0, 1.0, 0.0], left=0.0, right=0.0) * 2.0 / (hi - lo)
    return fb


def reference_features(x, sr, n_fft, hop, n_mels, fmin, fmax, log_offset):
    """Returns (P = mel_power + log_offset [frames, n_mels], rms [frames])."""
    x = x.astype(np.float64)
    n_frames = 0 if x.size < n_fft else 1 + (x.size - n_fft) // hop
    window = 0.5 * (1.0 - np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft))
    idx = np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None, :]
    frames = x[idx]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    fb = reference_filterbank(sr, n_fft, n_mels, fmin, fmax)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    return power @ fb.T + log_offset, rms, fb


def make_signals(sr, rng):
    seconds = 2.0
    n = int(seconds * sr) + 123  # not a multiple of any hop
    t = np.arange(n) / sr
    nyq = sr / 2.0
    f0, f1 = 40.0, 0.9 * nyq
    # Exponential sweep: phase = 2 pi f0 T / ln(f1/f0) * ((f1/f0)^(t/T) - 1)
    k = np.log(f1 / f0)
    chirp = 0.5 * np.sin(2 * np.pi * f0 * seconds / k * (np.exp(k * t / seconds) - 1.0))
    noise = rng.standard_normal(n) * 0.1
    tones = sum(a * np.sin(2 * np.pi * f * t + ph)
                for a, f, ph in [(0.3, 440.0, 0.0), (0.2, 0.123 * sr, 1.0), (0.05, 0.41 * sr, 2.0)])
    # Digital silence then a burst: frames at exactly ln(log_offset) and frames
    # that straddle the onset.
    burst = np.zeros(n)
    burst[n // 2:] = rng.uniform(-0.8, 0.8, n - n // 2)
    return {"chirp": chirp, "noise": noise, "tones": tones, "silence_burst": burst}


def run_tool(tool, tmp, x, params, stream):
    sr, n_fft, hop, n_mels, fmin, fmax, log_offset = params
    inp = os.path.join(tmp, "in.f32")
    frames_path = os.path.join(tmp, "frames.f32")
    fb_path = os.path.join(tmp, "fb.f32")
    rms_path = os.path.join(tmp, "rms.f32")
    x.astype("<f4").tofile(inp)
    args = [tool, inp, str(sr), str(n_fft), str(hop), str(n_mels), repr(fmin), repr(fmax),
            repr(log_offset), frames_path, fb_path]
    if stream:
        args += [str(STREAM_MAX_BLOCK), rms_path]
    subprocess.run(args, check=True)
    frames = np.fromfile(frames_path, dtype=np.float32)
    fb = np.fromfile(fb_path, dtype=np.float32).reshape(n_mels, n_fft // 2 + 1)
    rms = np.fromfile(rms_path, dtype=np.float32) if stream else None
    return frames, fb, rms


def main():
    build = os.environ.get("GS_BUILD_DIR")
    tool = os.path.join(build, "tests", "gs_mel_dump") if build else None
    if not tool or not os.access(tool, os.X_OK):
        print("gs_mel_dump not found (set GS_BUILD_DIR): skipped")
        return 77

    failures = 0
    rng = np.random.RandomState(20240611)
    with tempfile.TemporaryDirectory(dir=os.environ.get("GS_TEST_TMP")) as tmp:
        for params in PARAM_SETS:
            sr, n_fft, hop, n_mels, fmin, fmax, log_offset = params
            # The C side holds these as float32; the reference must use the
            # same values.
            fmin32, fmax32, off32 = (float(np.float32(v)) for v in (fmin, fmax, log_offset))
            for name, x in make_signals(sr, rng).items():
                x32 = x.astype(np.float32)
                ref_p, ref_rms, ref_fb = reference_features(x32, sr, n_fft, hop, n_mels, fmin32, fmax32, off32)
                ln_c, fb_c, _ = run_tool(tool, tmp, x32, params, stream=False)
                label = "%s sr=%d n_fft=%d hop=%d n_mels=%d fmin=%g fmax=%g" % (
                    name, sr, n_fft, hop, n_mels, fmin, fmax)

                if ln_c.size != ref_p.size:
                    print("FAIL %s: %d values, expected %d" % (label, ln_c.size, ref_p.size))
                    failures += 1
                    continue
                p_c = np.exp(ln_c.astype(np.float64)).reshape(ref_p.shape)
                floor = FEATURE_FLOOR * ref_p.max(axis=1, keepdims=True)
                rel = np.abs(p_c - ref_p) / np.maximum(ref_p, floor)
                fb_err = np.abs(fb_c.astype(np.float64) - ref_fb) / np.maximum(ref_fb.max(axis=1, keepdims=True), 1e-30)
                ok = rel.max() <= FEATURE_RTOL and fb_err.max() <= FILTERBANK_TOL
                print("%s %s: max rel feature error %.3g (%.1f%% of bands under the floor), "
                      "max filterbank error %.3g" % ("ok  " if ok else "FAIL", label, rel.max(),
                                                     100.0 * np.mean(ref_p < floor), fb_err.max()))
                failures += not ok

                s_c, _, s_rms = run_tool(tool, tmp, x32, params, stream=True)
                same = s_c.tobytes() == ln_c.tobytes()
                if s_rms.size == ref_rms.size:
                    rms_err = (np.abs(s_rms - ref_rms) / np.maximum(ref_rms, 1e-12)).max()
                else:
                    rms_err = np.inf
                ok = same and rms_err <= RMS_RTOL
                print("%s %s: streaming bit-identical=%s, max rel rms error %.3g" % (
                    "ok  " if ok else "FAIL", label, same, rms_err))
                failures += not ok
    print("test_melspec_numpy: %d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
