/* Writing a file where we were told, and only there.
 *
 * Every program of Genrescope that writes a named file (a model, a
 * checkpoint, a playlist, a cache entry, a tag's working copy) goes through
 * these rules, because tests and users run it as root and a mistake replaces
 * a device node or a file a symlink was planted to:
 *  - the path is resolved first: symlinks are followed to their target (a
 *    dangling one names the file to create), and an existing target that is
 *    not a regular file (directory, FIFO, character or block device, socket)
 *    is refused with a message saying what it is;
 *  - the new content goes to a temporary file created exclusively
 *    (O_CREAT|O_EXCL|O_NOFOLLOW, a name with 64 random bits) in the target's
 *    own directory, so no planted name can redirect the write;
 *  - it is fsynced and renamed only onto a regular file or onto nothing
 *    (renameat2 RENAME_NOREPLACE when there was nothing), then the directory
 *    is fsynced; readers see the old file or the whole new one;
 *  - "-" means standard output when the caller allows it.
 * A replaced file keeps its permission bits (and, for root, its owner); a new
 * one gets 0666 minus the umask. */
#ifndef GENRESCOPE_OUTFILE_H
#define GENRESCOPE_OUTFILE_H

#include "genrescope/api.h"

#include <stddef.h>
#include <stdio.h>

#include "genrescope/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resolves path to the file a write should replace or create: follows
 * symlinks (at most 40), makes the directory part canonical, and writes the
 * result into resolved (capacity resolved_size). *exists (may be NULL) says
 * whether a regular file is there now. Errors: GS_ERR_INVALID for an empty
 * path or one too long for resolved; GS_ERR_IO when the target exists and is
 * not a regular file, its directory is missing, or a lookup fails (the
 * message names the path and the reason). */
GS_API gs_status gs_output_resolve(const char *path, char *resolved, size_t resolved_size, int *exists, gs_error *err);

/* Creates a new, empty temporary file next to target, exclusively and with
 * an unpredictable name "<dir>/<prefix><16 hex digits><suffix>" (prefix
 * NULL: ".gs-", suffix NULL: ".tmp") where dir is target's directory, with
 * permission bits mode (less the umask). With lock = 1 the descriptor holds
 * an exclusive flock, and where the file system allows (O_TMPFILE) the name
 * appears only once the lock is held, so "unlocked" reliably means "its
 * writer is gone". Writes the name into tmp_path (capacity tmp_size) and
 * returns an open read-write descriptor (O_CLOEXEC) the caller closes and,
 * unless it renames the file, unlinks. Returns -1 with *err set (GS_ERR_IO
 * or GS_ERR_INVALID) on failure. */
GS_API int gs_temp_create_near(const char *target, const char *prefix, const char *suffix, unsigned int mode, int lock,
                               char *tmp_path, size_t tmp_size, gs_error *err);

/* Renames tmp_path over target only if target is a regular file or absent
 * (absent: with RENAME_NOREPLACE, so a file that appears meanwhile is not
 * replaced), then fsyncs target's directory. Does not remove tmp_path on
 * failure (the caller does). Errors: GS_ERR_IO with a message. */
GS_API gs_status gs_rename_onto_regular(const char *tmp_path, const char *target, gs_error *err);

/* For logs that grow while a long job runs (a training log resumed after an
 * interruption): opens path, resolved as above, for writing in place,
 * appending (append = 1) or truncating (append = 0), creating it when
 * absent, and checks that what was opened is a regular file (O_NOFOLLOW
 * and O_NONBLOCK, so a FIFO swapped in cannot block us). Returns a stream
 * the caller fcloses, or NULL with *err set (GS_ERR_IO). */
GS_API FILE *gs_output_open_in_place(const char *path, int append, gs_error *err);

typedef struct gs_outfile gs_outfile;

/* Flags for gs_outfile_open. */
#define GS_OUTFILE_ALLOW_STDOUT 1 /* path "-" means standard output */

/* Opens a replacement for path following the rules above. The caller writes
 * through gs_outfile_fd() or gs_outfile_stream() (not both), then ends with
 * gs_outfile_commit() or gs_outfile_discard(), which free it. Returns NULL
 * with *err set (see gs_output_resolve and gs_temp_create_near). */
GS_API gs_outfile *gs_outfile_open(const char *path, int flags, gs_error *err);

/* The descriptor to write to (the temporary file, or 1 for stdout). */
GS_API int gs_outfile_fd(const gs_outfile *f);

/* A stdio stream over the descriptor, created on first use (NULL when out
 * of memory). Owned by f. */
GS_API FILE *gs_outfile_stream(gs_outfile *f);

/* The resolved target path ("-" for stdout). Owned by f. */
GS_API const char *gs_outfile_target(const gs_outfile *f);

/* Flushes and fsyncs the content and renames it over the target
 * (gs_rename_onto_regular); for stdout, flushes. Always frees f; on failure
 * the temporary file is removed, the target is untouched and *err says why
 * (GS_ERR_IO). A NULL f returns GS_ERR_INVALID. */
GS_API gs_status gs_outfile_commit(gs_outfile *f, gs_error *err);

/* Removes the temporary file and frees f; the target is untouched. NULL is
 * ignored. */
GS_API void gs_outfile_discard(gs_outfile *f);

/* What kind of file st_mode is, for messages: "a directory", "a FIFO",
 * "a character device", ... Static string. */
GS_API const char *gs_file_kind_name(unsigned int st_mode);

#ifdef __cplusplus
}
#endif
#endif
