/* M3U8 playlists that every player reads as meant. The format is UTF-8
 * text, one entry per line, where '#' starts a directive and "scheme:" a
 * URL; so a path that is not valid UTF-8 (a Latin-1 name), holds a control
 * character (a newline would split the entry and could inject another) or
 * would read as a directive or URL is written as a percent-encoded file://
 * URI, which players resolve to the same file. Titles are made safe the
 * same way (control characters become spaces, invalid UTF-8 U+FFFD). */
#ifndef GS_TAGGER_M3U_H
#define GS_TAGGER_M3U_H

#include <stdio.h>

/* Writes the "#EXTM3U" header. 0, or -1 on a write error. */
int gs_m3u_write_header(FILE *out);

/* Writes one entry: "#EXTINF:<seconds>,<title>" (duration < 0 or not finite:
 * -1, "unknown"; title NULL or empty: the file name without extension) and
 * the location of path (absolute, canonical). relative_to (an absolute
 * directory, or NULL) makes plain paths relative to it ("../a/b.flac");
 * paths that need a URI are always absolute file:// URIs. Returns 0, or -1 on
 * a write error. */
int gs_m3u_write_entry(FILE *out, const char *path, double duration, const char *title, const char *relative_to);

/* The location gs_m3u_write_entry writes for path, into out (a NUL-
 * terminated string). Returns its length, or -1 if out_size is too small. */
int gs_m3u_location(const char *path, const char *relative_to, char *out, size_t out_size);

#endif
