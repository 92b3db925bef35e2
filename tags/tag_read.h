/* Reading what a file's tags say, one way for every program that reads
 * them: the tagger (what a file holds before and after tagging, titles for
 * playlists) and the trainer (--labels-from-tags). TagLib's C++ API, which
 * sees a multi-valued genre as its values in every format; TagLib's C
 * binding joins them with spaces, so "Rock" + "Blues" would read as one
 * genre "Rock Blues".
 *
 * A static library (genrescope_tags) for the programs that read tags; the
 * core and the plugin never link it. C API, C++ inside; TagLib's global
 * state is guarded here, so calls are safe from several threads. */
#ifndef GS_TAGS_TAG_READ_H
#define GS_TAGS_TAG_READ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The custom field holding the confidence genrescope wrote with a genre
 * (ID3v2 TXXX, Vorbis comment, M4A freeform atom). */
#define GS_TAG_CONFIDENCE_KEY "GENRESCOPE_CONFIDENCE"

/* Where a format holds one genre string, several genres are stored joined
 * by this; gs_tag_read joins a multi-valued genre the same way, so both
 * forms read back alike. */
#define GS_TAG_GENRE_SEPARATOR "; "

/* Reads the genre (its values joined by GS_TAG_GENRE_SEPARATOR, "" if none)
 * and the confidence field ("" if absent) into the caller's buffers, each
 * truncated to its size (either may be NULL). Returns 0, or -1 if TagLib
 * cannot read the file (then the buffers are untouched). */
int gs_tag_read(const char *path, char *genre, size_t genre_size, char *confidence, size_t confidence_size);

/* The file's genres: the parts of what gs_tag_read reports, split at
 * GS_TAG_GENRE_SEPARATOR, empty ones dropped, in tag order, as the tag
 * holds them (not trimmed or case-folded: what a genre means is the
 * caller's business).
 * On success (0) *genres is a malloc'd array of *count malloc'd strings
 * (NULL when *count is 0), to free with gs_tag_genres_free. Returns -1 if
 * TagLib cannot read the file, -2 out of memory; *genres is then NULL and
 * *count 0. */
int gs_tag_read_genres(const char *path, char ***genres, int *count);

/* Frees what gs_tag_read_genres returned; NULL is a no-op. */
void gs_tag_genres_free(char **genres, int count);

/* "Artist - Title" from the file's tags ("Title" without an artist), or ""
 * when it has no title or TagLib cannot read it: for playlists. out is
 * truncated to out_size. */
void gs_tag_read_title(const char *path, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
