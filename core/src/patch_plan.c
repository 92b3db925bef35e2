/* The patch plan (classify.h): which patches of a clip are classified or
 * trained on, how a clip shorter than one patch is filled, and which patches
 * are silent, and which patches a sliding window over a stream has. One
 * definition for the classifier, the sliding window and the trainer. */
#include "genrescope/classify.h"
#include "genrescope/patch_norm.h"

long long gs_patch_plan_regular(const gs_frontend_params *p, long long n_frames)
{
    if (n_frames < p->patch_frames)
        return 0;
    return (n_frames - p->patch_frames) / p->patch_hop_frames + 1;
}

/* Without the tail patch up to patch_hop_frames - 1 frames at the end (up
 * to ~3 s) would never be heard, and a window holding only that tail would
 * be missing. A tail shorter than half a hop is left out: the extra patch
 * would almost repeat the last one, and a length difference of a frame or
 * two (resampler edges) must not change the verdict. */
long long gs_patch_tail_start(const gs_frontend_params *p, long long n_frames)
{
    const long long nf = p->patch_frames, hop = p->patch_hop_frames;
    if (n_frames < nf)
        return -1;
    long long uncovered = (n_frames - nf) % hop;
    if (uncovered * 2 < hop)
        return -1;
    return n_frames - nf;
}

long long gs_patch_plan_count(const gs_frontend_params *p, long long n_frames)
{
    if (n_frames <= 0)
        return 0;
    if (n_frames < p->patch_frames)
        return 1; /* the repeated patch */
    return gs_patch_plan_regular(p, n_frames) + (gs_patch_tail_start(p, n_frames) >= 0);
}

long long gs_patch_plan_start(const gs_frontend_params *p, long long n_frames, long long k)
{
    if (k < 0 || k >= gs_patch_plan_count(p, n_frames))
        return -1;
    long long regular = gs_patch_plan_regular(p, n_frames);
    if (k < regular)
        return k * p->patch_hop_frames;
    if (regular == 0)
        return 0; /* shorter than a patch: the repeated patch */
    return gs_patch_tail_start(p, n_frames);
}

long long gs_patch_crop_starts(const gs_frontend_params *p, long long n_frames)
{
    if (n_frames <= 0)
        return 0;
    return n_frames >= p->patch_frames ? n_frames - p->patch_frames + 1 : 1;
}

float gs_patch_peak_rms(const float *rms, long long available, int patch_frames)
{
    /* Repetition only revisits frames, so the peak over the first
     * min(available, patch_frames) frames is the patch's peak. */
    long long n = available < patch_frames ? available : patch_frames;
    float peak = 0.0f;
    for (long long t = 0; t < n; t++)
        if (rms[t] > peak)
            peak = rms[t];
    return peak;
}

int gs_patch_is_silent(const float *rms, long long available, int patch_frames)
{
    return gs_patch_peak_rms(rms, available, patch_frames) < GS_SILENCE_RMS;
}

void gs_patch_normalize_apply(float *patch, int n_mels, int patch_frames, gs_patch_normalize mode)
{
    if (mode != GS_PATCH_NORMALIZE_MEAN)
        return;
    double sum = 0.0;
    for (int t = 0; t < patch_frames; t++)
        for (int m = 0; m < n_mels; m++)
            sum += patch[(size_t)m * patch_frames + t];
    size_t n = (size_t)n_mels * (size_t)patch_frames;
    float mean = (float)(sum / (double)n);
    for (size_t i = 0; i < n; i++)
        patch[i] -= mean;
}

void gs_patch_from_frames(const float *frames, long long available, int n_mels, int patch_frames,
                          gs_patch_normalize normalize, float *out)
{
    for (int t = 0; t < patch_frames; t++) {
        /* Frame t of the patch; cyclic repetition when the clip is short. */
        const float *f = frames + (size_t)(t < available ? t : t % available) * (size_t)n_mels;
        for (int m = 0; m < n_mels; m++)
            out[(size_t)m * patch_frames + t] = f[m];
    }
    gs_patch_normalize_apply(out, n_mels, patch_frames, normalize);
}

/* The sliding window (classify.h): the stream's own regular patches that
 * lie inside the window, so a stream analysed incrementally classifies each
 * of them once, plus one patch at the window's end. */
long long gs_window_plan_first(long long n_frames, long long window_frames)
{
    if (window_frames < 1)
        window_frames = 1;
    return n_frames > window_frames ? n_frames - window_frames : 0;
}

long long gs_window_plan_regular(const gs_frontend_params *p, long long n_frames, long long window_frames,
                                 long long *first_index)
{
    const long long nf = p->patch_frames, hop = p->patch_hop_frames;
    const long long first = gs_window_plan_first(n_frames, window_frames);
    if (first_index)
        *first_index = 0;
    if (n_frames - first < nf)
        return 0;
    /* Grid patches starting at or after the window's first frame and
     * ending by its last. */
    long long lo = (first + hop - 1) / hop, hi = (n_frames - nf) / hop;
    if (first_index)
        *first_index = lo;
    return hi >= lo ? hi - lo + 1 : 0;
}

long long gs_window_plan_count(const gs_frontend_params *p, long long n_frames, long long window_frames)
{
    if (n_frames <= 0)
        return 0;
    if (n_frames - gs_window_plan_first(n_frames, window_frames) < p->patch_frames)
        return 1; /* the repeated patch */
    long long regular = gs_window_plan_regular(p, n_frames, window_frames, NULL);
    /* Without regular patches (a window only a little longer than a patch,
     * off the grid) the end patch is the window's only patch. */
    return regular + (regular == 0 || gs_patch_tail_start(p, n_frames) >= 0);
}

long long gs_window_plan_start(const gs_frontend_params *p, long long n_frames, long long window_frames, long long k)
{
    if (k < 0 || k >= gs_window_plan_count(p, n_frames, window_frames))
        return -1;
    long long lo;
    long long regular = gs_window_plan_regular(p, n_frames, window_frames, &lo);
    if (k < regular)
        return (lo + k) * p->patch_hop_frames;
    long long first = gs_window_plan_first(n_frames, window_frames);
    if (n_frames - first < p->patch_frames)
        return first;
    return n_frames - p->patch_frames;
}
