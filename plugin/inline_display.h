/* Ardour's LV2 inline display extension (a small plugin-drawn image in the
 * mixer strip). Its header (Ardour's lv2_extensions.h) is not packaged with
 * lv2-dev, so the few definitions are repeated here, as plugins that
 * support it usually do; they must stay binary-compatible with Ardour's. */
#ifndef GS_INLINE_DISPLAY_H
#define GS_INLINE_DISPLAY_H

#include <stdint.h>

#include <lv2/core/lv2.h>

#define LV2_INLINEDISPLAY_URI         "http://harrisonconsoles.com/lv2/inlinedisplay"
#define LV2_INLINEDISPLAY_PREFIX      LV2_INLINEDISPLAY_URI "#"
#define LV2_INLINEDISPLAY__interface  LV2_INLINEDISPLAY_PREFIX "interface"
#define LV2_INLINEDISPLAY__queue_draw LV2_INLINEDISPLAY_PREFIX "queue_draw"

typedef void *LV2_Inline_Display_Handle;

/* ARGB32, premultiplied alpha, native endian (cairo's CAIRO_FORMAT_ARGB32).
 * The plugin owns data; it stays valid from the first render() to cleanup. */
typedef struct {
    unsigned char *data;
    int width;
    int height;
    int stride; /* bytes per row */
} LV2_Inline_Display_Image_Surface;

/* Host feature: asks the host to call render() later. Real-time safe. */
typedef struct {
    LV2_Inline_Display_Handle handle;
    void (*queue_draw)(LV2_Inline_Display_Handle handle);
} LV2_Inline_Display;

/* Plugin extension data: render() is called from the host's GUI thread with
 * the available width and the largest height; the plugin picks the height. */
typedef struct {
    LV2_Inline_Display_Image_Surface *(*render)(LV2_Handle instance, uint32_t w, uint32_t max_h);
} LV2_Inline_Display_Interface;

#endif
