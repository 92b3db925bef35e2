/* Helpers shared by the tagger's subcommands: index opening with clear
 * messages, JSON line output, time parsing. */
#ifndef GS_TAGGER_CLI_COMMON_H
#define GS_TAGGER_CLI_COMMON_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli_parse.h"
#include "genrescope/parse_number.h"
#include "index_db.h"

/* Exit statuses of the tagger commands (documented in docs/tagger.md). */
enum {
    GS_EXIT_OK = 0,
    GS_EXIT_SOME_FAILED = 1, /* the run completed but some files failed */
    GS_EXIT_USAGE = 2,
    GS_EXIT_FATAL = 3, /* index unusable: locked, newer schema, disk full */
    GS_EXIT_INTERRUPTED = 130
};

/* Opens --db (or the default index) printing "genrescope CMD: ..." on
 * failure; NULL then. */
gs_index *gs_cli_open_index(const char *cmd, const char *db_path, int flags, int busy_ms);

/* Loads the genre names shared says (when spec declares --genre-names) and
 * opens the index it names with flags (GS_INDEX_*). Returns 0 with *ix (the
 * caller closes it), else the exit status, the reason on stderr: 2 for a
 * bad genre names file, 3 for an index that cannot be used. */
int gs_cli_shared_open(const gs_cli_shared *shared, const gs_cli_spec *spec, int flags, gs_index **ix);

/* Length of the valid UTF-8 sequence at s, or 0 if s does not start one. */
int gs_cli_utf8_sequence_length(const unsigned char *s);
/* A file name as a JSON string (a raw cJSON item; NULL if out of memory).
 * Names need not be UTF-8: each byte that is not part of valid UTF-8 is
 * written as \udcXX, the convention Python's os.fsencode() turns back into
 * the original bytes, so the line stays valid JSON and the name
 * recoverable. cJSON_AddStringToObject would write the raw bytes. */
cJSON *gs_cli_path_json(const char *path);
/* Adds gs_cli_path_json(path) to obj as key. Every path in JSON output
 * goes through this. */
void gs_cli_add_path(cJSON *obj, const char *key, const char *path);

/* Prints obj as one line to out and deletes it. */
void gs_cli_print_json(FILE *out, cJSON *obj);

/* Embeddings and probabilities of different models are not comparable, so
 * similar, playlist and query keep to one model. When n > 0 tracks were
 * left out for that, says so: with json a {"summary": {"model": ...,
 * "other_model_tracks": n}} line on out, else a note on stderr (so text
 * output such as M3U stays clean). Nothing when n is 0. */
void gs_cli_report_other_model(const char *cmd, int json, FILE *out, const char *model, size_t n);

/* The reason in message without a leading "path: " (the decoders name the
 * file in their messages; JSON rows carry it in "path" already), so every
 * JSON "error" field has one form: the reason alone. Borrowed pointer into
 * message. */
const char *gs_cli_error_reason(const char *path, const char *message);
/* Strict parsers: 0 on success. Numbers: gs_parse_long and gs_parse_double
 * (genrescope/parse_number.h, shared with the trainer). A time: seconds ("95", "95.5"), M:SS or H:MM:SS (minutes and seconds
 * below 60 after the first field); 0 and *seconds set, or -1. */
int gs_cli_parse_clock(const char *s, double *seconds);
/* Writes seconds as M:SS or H:MM:SS (rounded), "?" when not a sane time. */
void gs_cli_clock_text(double seconds, char *out, size_t n);

/* Loads genre display names from --genre-names or the default config. */
int gs_cli_load_genre_names(const char *cmd, const char *path);

#endif
