/* Writing genre tags through TagLib (C++ shim with a C API; reading is the
 * shared tag reader's, tags/tag_read.h): the genre, possibly multi-valued,
 * and GENRESCOPE_CONFIDENCE as a custom field (ID3v2 TXXX,
 * Vorbis comment, M4A freeform atom ----:com.apple.iTunes:...). Only tag
 * bytes change: MP3 saves ID3v2 only (ID3v1 updated only if the file already
 * had one), and a file TagLib cannot parse or save is left untouched. */
#ifndef GS_TAGGER_TAG_WRITER_H
#define GS_TAGGER_TAG_WRITER_H

#include <signal.h>
#include <stddef.h>

/* gs_tag_read, gs_tag_read_title and GS_TAG_CONFIDENCE_KEY: reading is the
 * tag reader's (tags/tag_read.h), shared with the trainer. */
#include "tag_read.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The confidence as written into GENRESCOPE_CONFIDENCE ("0.873"): one
 * definition, so a scan can recognise a field it wrote itself. */
void gs_tag_format_confidence(float confidence, char *out, size_t out_size);

/* Working copies of files being tagged are named ".gs-tmp-<random>-<name>"
 * and flock'ed by their writer for as long as they exist. */
#define GS_TAG_TEMP_PREFIX ".gs-tmp-"

/* Removes dir/name when it is a working copy whose writer died: a regular
 * file under GS_TAG_TEMP_PREFIX that nobody holds a lock on. PIDs are not
 * trusted (in a container every run is PID 1). Returns 1 when removed, 0
 * otherwise (in use, not ours, already gone). */
int gs_tag_remove_stale_copy(const char *dir, const char *name);

/* What became of a file's genre tag, as scan reports it and the index
 * records it (tracks.tag_status, by gs_tag_outcome_name). gs_tag_write
 * returns one of the first eight; the scan decides the others without
 * trying a write. */
typedef enum gs_tag_outcome {
    GS_TAG_WRITTEN = 0,    /* genre (and confidence) saved */
    GS_TAG_WOULD_WRITE,    /* dry run: would have saved */
    GS_TAG_SAME,           /* the file already has exactly these genres */
    GS_TAG_KEPT,           /* a different genre is there; kept (no overwrite) */
    GS_TAG_READ_ONLY,      /* no write permission / read-only file: untouched */
    GS_TAG_UNSUPPORTED,    /* TagLib cannot parse or tag this file: untouched */
    GS_TAG_FAILED,         /* save failed */
    GS_TAG_HARDLINKED,     /* several names share the file: untouched (see allow) */
    GS_TAG_DISABLED,       /* scan --no-tags */
    GS_TAG_LOW_CONFIDENCE, /* the verdict is below --min-confidence */
    GS_TAG_NOT_MUSIC,      /* the model says it is not music: no genre */
    GS_TAG_NONE,           /* nothing to tag (silent) */
    GS_TAG_OUTCOME_COUNT
} gs_tag_outcome;

typedef struct gs_tag_request {
    const char *const *genres; /* display names, first is the top genre */
    int num_genres;            /* >= 1; > 1 writes a multi-valued genre */
    float confidence;          /* < 0: do not write the confidence field */
    int overwrite;             /* replace a different existing genre */
    int dry_run;               /* change nothing, report what would happen */
    /* The genre genrescope last wrote to this file ("; "-joined, as the
     * index recorded it), or NULL. The file's genre is genrescope's, and
     * may be replaced without overwrite, only while it still equals this:
     * tag editors keep the confidence field when a user edits the genre,
     * so that field proves nothing. */
    const char *ours;
    /* A file with several hard links is saved by copy and rename, which
     * gives this name new content and leaves the others on the old one.
     * 0: such files are left untouched (GS_TAG_HARDLINKED). */
    int break_hardlinks;
    /* When not NULL and set (by a signal handler), a save in progress is
     * stopped and reported as failed; the file stays untouched. */
    volatile sig_atomic_t *cancel;
    /* NULL: several genres are stored as each format's readers expect (a
     * list in ID3v2.4, Vorbis comments, APE and WAV/AIFF ID3 chunks; one
     * "; "-joined string in ID3v2.3 and MP4, and in WAV's INFO chunk). Else
     * one string joined by it in every format, for players that show one. */
    const char *separator;
} gs_tag_request;

/* Bounds of one tag save, which runs in a child process (TagLib holds no
 * lock of ours meanwhile): a save that takes longer, or grows the working
 * copy by more, is killed and the file left untouched. A malformed file
 * once made TagLib 1.13 write gigabytes without end. */
#define GS_TAG_SAVE_SECONDS    60
#define GS_TAG_SAVE_MAX_GROWTH (64LL << 20)

/* "; "-joins genres the way gs_tag_write compares them with req->ours.
 * Returns 0, or -1 if out is too small (then out is truncated). */
int gs_tag_join(const char *const *genres, int num_genres, char *out, size_t out_size);
/* What the file holds of genres written with separator (NULL: the native
 * forms, which read back "; "-joined), as gs_tag_read reports it: the value
 * to remember as req->ours. */
int gs_tag_join_as_written(const char *const *genres, int num_genres, const char *separator, char *out,
                           size_t out_size);

/* Applies req to path. existing (may be NULL) receives the genre found in
 * the file before ("; "-joined, "" if none); message (may be NULL) a short
 * reason for non-written outcomes. Thread-safe across different files. */
gs_tag_outcome gs_tag_write(const char *path, const gs_tag_request *req, char *existing, size_t existing_size,
                            char *message, size_t message_size);

/* Stable lowercase name of an outcome ("written", "kept"...). */
const char *gs_tag_outcome_name(gs_tag_outcome outcome);
/* The outcome named name (as stored in the index); GS_TAG_OUTCOME_COUNT for
 * NULL or a name this version does not know. */
gs_tag_outcome gs_tag_outcome_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
