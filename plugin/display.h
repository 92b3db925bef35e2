/* The mixer-strip picture (LV2 inline display): the genre name, one bar per
 * label's probability and the window fill, drawn with integer code and a
 * built-in 5x7 font into a caller-owned ARGB32 buffer. Pure logic: no
 * allocation, no I/O, no LV2; the tests draw reference pictures with it.
 *
 * Also the hand-over of what to draw from the audio thread to the GUI
 * thread: a sequence lock over atomics, so neither side ever blocks. */
#ifndef GS_PLUGIN_DISPLAY_H
#define GS_PLUGIN_DISPLAY_H

#include <stdatomic.h>
#include <stdint.h>

#include "genrescope/model.h" /* GS_MAX_LABELS */

/* The largest picture render() draws; bigger requests are clamped. The
 * buffer for it is part of the plugin instance (512 KiB). */
#define GS_DISPLAY_MAX_W 512
#define GS_DISPLAY_MAX_H 256

/* Opaque colours (alpha 255, so premultiplication changes nothing). */
#define GS_DISPLAY_BG           0xFF1A1A1Au
#define GS_DISPLAY_TEXT         0xFFF0F0F0u /* the genre name */
#define GS_DISPLAY_TEXT_NONE    0xFF8C8C8Cu /* "none" */
#define GS_DISPLAY_BAR          0xFF3A8FD0u /* a genre's probability */
#define GS_DISPLAY_BAR_SHOWN    0xFFF0A030u /* the genre shown */
#define GS_DISPLAY_BAR_NOTMUSIC 0xFF7A7A7Au /* the not-music probability */
#define GS_DISPLAY_FILL         0xFF40C060u /* window fill, done part */
#define GS_DISPLAY_FILL_TRACK   0xFF333333u /* window fill, the rest */

/* What the picture shows. */
typedef struct gs_display_state {
    int genre;                  /* -1: "none" */
    float fill;                 /* 0..1 */
    float probs[GS_MAX_LABELS]; /* 0..1 each */
} gs_display_state;

/* Where things go in a w x h picture (all in pixels, end exclusive). A part
 * that does not fit is empty (text_scale 0, bar_w 0, fill_w 0). */
typedef struct gs_display_layout {
    int text_x0, text_y0, text_scale; /* scale 0: no text */
    int bars_top, bars_bottom;        /* a bar of probability p is
                                         round(p * (bottom - top)) tall,
                                         standing on bars_bottom */
    int bar_x0[GS_MAX_LABELS];        /* left edge of label k's bar */
    int bar_w;
    int fill_x0, fill_y0, fill_w, fill_h;
} gs_display_layout;

/* The picture size render() promises for a request of w x max_h: w clamped
 * to GS_DISPLAY_MAX_W, height min(w / 2, max_h, GS_DISPLAY_MAX_H). Either
 * may come out 0 (nothing to draw). */
void gs_display_size(uint32_t w, uint32_t max_h, int *out_w, int *out_h);

/* Layout for w x h (each 1..max) with num_labels bars (1..GS_MAX_LABELS)
 * and name as the text. */
void gs_display_layout_for(int w, int h, int num_labels, const char *name, gs_display_layout *l);

/* Bar height in pixels for probability p (NaN and out of range clamped). */
int gs_display_bar_height(const gs_display_layout *l, float p);
/* Filled length of the fill bar for fill f. */
int gs_display_fill_length(const gs_display_layout *l, float f);

/* Draws s into px (w x h pixels, stride_px pixels per row, w, h within the
 * maximum). names[k] is label k's display name; not_music_label (-1: none)
 * gets the grey bar. Allocation-free, O(w * h). */
void gs_display_draw(uint32_t *px, int stride_px, int w, int h, const gs_display_state *s, const char *const *names,
                     int num_labels, int not_music_label);

/* The state shared between the audio thread (one writer) and the GUI
 * thread (readers), floats carried as their bits in atomics. */
typedef struct gs_display_shared {
    atomic_uint seq; /* odd while a write is in progress */
    atomic_int genre;
    atomic_uint fill;
    atomic_uint probs[GS_MAX_LABELS];
} gs_display_shared;

/* Writer side (one thread at a time): wait-free. */
void gs_display_publish(gs_display_shared *d, const gs_display_state *s, int num_labels);
/* Reader side: copies a consistent state into out and returns 1, or
 * returns 0 (out untouched) when the writer kept interfering for a few
 * attempts; the caller then keeps its previous copy. Never blocks. */
int gs_display_read(gs_display_shared *d, gs_display_state *out, int num_labels);

#endif
