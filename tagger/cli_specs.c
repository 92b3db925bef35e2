/* Every genrescope subcommand's interface: the one place an option is
 * declared and documented (see cli_spec.h). Conventions, the same in every
 * command: -c/--count how many results, -n/--dry-run change nothing,
 * -m/--model the model file, --db the index, --json one object per line. */
#include <stddef.h>

#include "cli_spec.h"

#define END_OPTIONS                                                                                                    \
    {                                                                                                                  \
        NULL, 0, 0, 0, NULL, NULL, NULL                                                                                \
    }
#define END_STATUSES                                                                                                   \
    {                                                                                                                  \
        0, NULL                                                                                                        \
    }

/* Rows several commands share, word for word. */
#define OPT_DB                                                                                                         \
    {                                                                                                                  \
        "db", 0, GS_OPT_DB, GS_CLI_FILE, "FILE", "the index",                                                          \
            "$XDG_DATA_HOME/genrescope/index.sqlite, i.e. ~/.local/share/genrescope/index.sqlite"                      \
    }
#define OPT_JSON(what)                                                                                                 \
    {                                                                                                                  \
        "json", 0, GS_OPT_JSON, GS_CLI_NO_ARG, NULL, what, NULL                                                        \
    }
#define OPT_GENRE_NAMES                                                                                                \
    {                                                                                                                  \
        "genre-names", 0, GS_OPT_GENRE_NAMES, GS_CLI_FILE, "FILE",                                                     \
            "display names of the genres: 'label = Name' lines, see genrescope(5)",                                    \
            "$XDG_CONFIG_HOME/genrescope/genres.conf if it exists, else the built-in names"                            \
    }
#define OPT_BUSY                                                                                                       \
    {                                                                                                                  \
        "busy-timeout", 0, GS_OPT_BUSY_TIMEOUT, GS_CLI_VALUE, "MS",                                                    \
            "milliseconds to wait for an index another process is writing, then give up with exit "                    \
            "status 3",                                                                                                \
            "5000"                                                                                                     \
    }
#define OPT_MODEL(what)                                                                                                \
    {                                                                                                                  \
        "model", 'm', 'm', GS_CLI_FILE, "FILE", what, "the model built into genrescope"                                \
    }
#define OPT_DRY_RUN(what)                                                                                              \
    {                                                                                                                  \
        "dry-run", 'n', 'n', GS_CLI_NO_ARG, NULL, what, NULL                                                           \
    }

#define STATUS_USAGE                                                                                                   \
    {                                                                                                                  \
        2, "bad usage (an unknown option, a bad value, a missing argument)"                                            \
    }
#define STATUS_INDEX                                                                                                   \
    {                                                                                                                  \
        3,                                                                                                             \
            "the index cannot be used: missing, locked by a writer for longer than "                                   \
            "--busy-timeout, a newer schema, not a genrescope index, disk full"                                        \
    }

static const gs_cli_option classify_options[] = {
    OPT_MODEL("the model to classify with"),
    {"count", 'c', 'c', GS_CLI_VALUE, "N", "genres to show per file (and per window), from 1 to 64", "3"},
    {"top", 0, GS_OPT_ALIAS_TOP, GS_CLI_VALUE, "N", "older name of --count, still accepted", NULL},
    {"windows", 'w', 'w', GS_CLI_NO_ARG, NULL, "also show the verdict of every 30 s window", NULL},
    OPT_GENRE_NAMES,
    OPT_JSON("one JSON object per line per file: path, genre (the display name, null unless "
             "the verdict is a genre), label (the model's raw label, or null), verdict (genre, "
             "not-music, silent), confidence, not_music, probabilities (keyed by label), "
             "duration, windows (each with the same genre, label, verdict and probability "
             "fields)"),
    END_OPTIONS,
};
static const gs_cli_status classify_statuses[] = {
    {0, "every file was classified"},
    {1, "some file or folder could not be read or decoded, or the model could not be loaded"},
    STATUS_USAGE,
    END_STATUSES,
};

static const gs_cli_option scan_options[] = {
    OPT_DB,
    OPT_MODEL("the model to analyse with"),
    {"jobs", 'j', 'j', GS_CLI_VALUE, "N", "worker threads", "the number of cores"},
    OPT_DRY_RUN("show what would change; change nothing (no file, no index)"),
    {"no-tags", 0, GS_OPT_NO_TAGS, GS_CLI_NO_ARG, NULL, "only index, never touch the files", NULL},
    {"overwrite", 0, GS_OPT_OVERWRITE, GS_CLI_NO_ARG, NULL,
     "replace genres the files already have (a genre genrescope wrote is updated anyway)", NULL},
    {"no-overwrite", 0, GS_OPT_NO_OVERWRITE, GS_CLI_NO_ARG, NULL,
     "keep genres the files already have, also when the configuration file says overwrite", NULL},
    {"min-confidence", 0, GS_OPT_MIN_CONFIDENCE, GS_CLI_VALUE, "P",
     "do not tag verdicts below P, from 0 to 1 (they are still indexed)",
     "the model's own threshold, measured so that the genres it writes are right 95% of the "
     "time, see genrescope-train --tagging; 0.5 for models without one"},
    {"multi", 0, GS_OPT_MULTI, GS_CLI_NO_ARG, NULL,
     "write every genre scoring at least --multi-threshold, as a multi-valued tag (a file "
     "genrescope once tagged with several genres keeps getting several)",
     NULL},
    {"no-multi", 0, GS_OPT_NO_MULTI, GS_CLI_NO_ARG, NULL,
     "write only the top genre, also where the configuration file says multi or a file holds "
     "several genres genrescope wrote",
     NULL},
    {"multi-threshold", 0, GS_OPT_MULTI_THRESHOLD, GS_CLI_VALUE, "X",
     "the score a genre needs for --multi, from 0 to 1; implies --multi", "0.25"},
    {"multi-separator", 0, GS_OPT_MULTI_SEPARATOR, GS_CLI_VALUE, "SEP",
     "write several genres as one string joined by SEP in every format, for players that show "
     "one value",
     "each format's own form: a list in ID3v2.4, Vorbis comments, APE and WAV/AIFF ID3; one "
     "\"; \"-joined string in ID3v2.3, MP4 and WAV INFO"},
    {"break-hardlinks", 0, GS_OPT_BREAK_HARDLINKS, GS_CLI_NO_ARG, NULL,
     "tag hard-linked files too (this name gets the tag, the other names keep the old file)", NULL},
    {"force", 0, GS_OPT_FORCE, GS_CLI_NO_ARG, NULL, "re-analyse files even when they are unchanged (what rescan does)",
     NULL},
    {"hidden", 0, GS_OPT_HIDDEN, GS_CLI_NO_ARG, NULL,
     "also scan hidden files and system directories (lost+found, @eaDir...)", NULL},
    {"shard", 0, GS_OPT_SHARD, GS_CLI_VALUE, "K/N",
     "only this machine's share (K in 1..N) of the files; genrescope merge combines the "
     "shard indexes",
     "1/1"},
    OPT_GENRE_NAMES,
    {"batch", 0, GS_OPT_BATCH, GS_CLI_VALUE, "N", "commit the index every N files", "50"},
    {"batch-seconds", 0, GS_OPT_BATCH_SECONDS, GS_CLI_VALUE, "S", "...or every S seconds", "2"},
    OPT_BUSY,
    {"quiet", 'q', 'q', GS_CLI_NO_ARG, NULL,
     "no progress and no summary (failures and skipped files still go to standard error)", NULL},
    OPT_JSON("one JSON object per file (path, status, genre as its display name, label, "
             "confidence, verdict, tag...), then a summary object"),
    END_OPTIONS,
};
static const gs_cli_status scan_statuses[] = {
    {0, "every file done"},
    {1,
     "the scan completed but some files could not be analysed or a tag save failed (listed, "
     "recorded, retried by the next scan); read-only files and files TagLib cannot tag are "
     "reported and counted as not taggable, which is no failure"},
    {2, "bad usage, or a DIR that does not exist"},
    STATUS_INDEX,
    {130, "interrupted (everything committed before is kept; the next scan resumes)"},
    END_STATUSES,
};

static const gs_cli_option show_options[] = {
    OPT_DB,
    OPT_GENRE_NAMES,
    OPT_BUSY,
    OPT_JSON("one JSON object: id, path, genre (display name), label, confidence, duration, "
             "model, tag, scores (keyed by label), timeline (each window's start, end, genre, "
             "label, confidence)"),
    END_OPTIONS,
};
static const gs_cli_status show_statuses[] = {
    {0, "the file was found"}, {1, "the file or ID is not in the index"}, STATUS_USAGE, STATUS_INDEX, END_STATUSES,
};

static const gs_cli_option similar_options[] = {
    OPT_DB,
    {"count", 'c', 'c', GS_CLI_VALUE, "N", "how many tracks to list", "20"},
    {"genre", 0, GS_OPT_GENRE, GS_CLI_GENRE, "G",
     "only tracks whose top genre is G (a label or display name, any case)", NULL},
    {"at", 0, GS_OPT_AT, GS_CLI_VALUE, "TIME",
     "search with the 30 s part of FILE playing at TIME (seconds, M:SS or H:MM:SS), e.g. one "
     "track of a DJ mix",
     NULL},
    OPT_GENRE_NAMES,
    OPT_BUSY,
    OPT_JSON("one JSON object per track: rank, id, path, similarity, genre (display name), "
             "label, and part / query_part {start, end} (seconds) when a part matched; then a "
             "summary line when tracks of other models were left out"),
    END_OPTIONS,
};

static const gs_cli_status similar_statuses[] = {
    {0, "success (possibly with no tracks to list)"},
    {1,
     "FILE or ID is not in the index or has no embedding, or --at is past its end or at a "
     "silent or non-music part"},
    {2, "bad usage, or --genre G is not a genre of the index"},
    STATUS_INDEX,
    END_STATUSES,
};

static const gs_cli_option query_options[] = {
    OPT_DB,
    {"genre", 0, GS_OPT_GENRE, GS_CLI_GENRE, "G",
     "tracks whose top genre is G (a label or display name, any case), most confident first", NULL},
    {"min-confidence", 0, GS_OPT_MIN_CONFIDENCE, GS_CLI_VALUE, "X",
     "with --genre: only tracks at least this confident, from 0 to 1", "0"},
    {"mixed", 0, GS_OPT_MIXED, GS_CLI_GENRES, "G1,G2,...",
     "tracks scoring at least --min-score in every listed genre (at most 16), by their combined "
     "score; with --genre, their top genre must be G too",
     NULL},
    {"min-score", 0, GS_OPT_MIN_SCORE, GS_CLI_VALUE, "S", "the score --mixed needs, from 0 to 1", "0.2"},
    {"status", 0, GS_OPT_STATUS, GS_CLI_VALUE, "S",
     "tracks in this state, by path: failed (could not be analysed), low-confidence (below the "
     "tagging threshold), kept-existing (the file had another genre), not-music, silent, untagged (the "
     "file holds no genre at all) or tagged (holds the genre genrescope wrote)",
     NULL},
    {"tag-genre", 0, GS_OPT_TAG_GENRE, GS_CLI_GENRE, "G",
     "tracks whose file holds genre G in its own tag (one of its values, any case), whoever "
     "wrote it: also genres outside the model's, such as Electronic",
     NULL},
    {"duplicates", 0, GS_OPT_DUPLICATES, GS_CLI_NO_ARG, NULL,
     "groups of tracks with the same decoded audio (copies of one file, whatever their tags): "
     "one path per line, a blank line between groups",
     NULL},
    {"count", 'c', 'c', GS_CLI_VALUE, "N", "list at most N tracks", "all"},
    {"limit", 0, GS_OPT_ALIAS_LIMIT, GS_CLI_VALUE, "N", "older name of --count, still accepted", NULL},
    OPT_MODEL("list only tracks this model analysed (scores of different models are not "
              "comparable)"),
    {"any-model", 0, GS_OPT_ANY_MODEL, GS_CLI_NO_ARG, NULL, "list the tracks of every model; excludes --model", NULL},
    OPT_GENRE_NAMES,
    OPT_BUSY,
    OPT_JSON("one JSON object per track: id, path, genre (display name), label, confidence, "
             "combined_score (with --mixed), tag and file_genre (with --status or --tag-genre); "
             "then a summary line when tracks of other models were left out; with --duplicates "
             "one {\"paths\": [...]} object per group"),
    END_OPTIONS,
};
static const gs_cli_status query_statuses[] = {
    {0, "success (possibly with no matching tracks)"},
    {2, "bad usage, an unknown genre, or a model that cannot be loaded"},
    STATUS_INDEX,
    END_STATUSES,
};

static const gs_cli_option playlist_options[] = {
    {"seed", 0, GS_OPT_SEED, GS_CLI_TRACK, "FILE|ID", "the track the playlist starts at (required)", NULL},
    {"count", 'c', 'c', GS_CLI_VALUE, "N", "tracks in the playlist, the seed included", "30"},
    {"length", 0, GS_OPT_ALIAS_LENGTH, GS_CLI_VALUE, "N", "older name of --count, still accepted", NULL},
    {"out", 0, GS_OPT_OUT, GS_CLI_FILE, "FILE",
     "write the list to FILE: a new file, or a regular file it replaces (through a symlink, "
     "its target) once the list is complete; directories, devices and FIFOs are refused; '-' "
     "is standard output",
     "standard output"},
    {"relative-to", 0, GS_OPT_RELATIVE_TO, GS_CLI_DIR, "DIR",
     "write paths relative to DIR (the folder the playlist will live in); names that are not "
     "UTF-8, hold control characters or read as a URL are always written as file:// URIs",
     "absolute paths"},
    OPT_DB,
    OPT_GENRE_NAMES,
    OPT_BUSY,
    OPT_JSON("one JSON object per track instead of M3U8: position, id, path, genre (display "
             "name), label, similarity_to_seed"),
    END_OPTIONS,
};
static const gs_cli_status playlist_statuses[] = {
    {0, "the playlist was written"},
    {1, "the seed is not in the index or has no embedding"},
    STATUS_USAGE,
    {3, "the index cannot be used (as for the other commands), or --out cannot be written"},
    END_STATUSES,
};

static const gs_cli_option stats_options[] = {
    OPT_DB,
    OPT_GENRE_NAMES,
    OPT_BUSY,
    OPT_JSON("one JSON object: index, tracks, analysed, failed, silent, hours, index_bytes, "
             "bytes_per_track, genres (genre, label, tracks, mean_confidence), tags, models"),
    END_OPTIONS,
};
static const gs_cli_status stats_statuses[] = {
    {0, "success"},
    STATUS_USAGE,
    STATUS_INDEX,
    END_STATUSES,
};

static const gs_cli_option merge_options[] = {
    OPT_BUSY,
    OPT_JSON("one JSON object per shard: shard, tracks"),
    END_OPTIONS,
};
static const gs_cli_status merge_statuses[] = {
    {0, "every shard was merged"},
    {2, "bad usage, or OUT is also a SHARD"},
    {3,
     "OUT cannot be written or a SHARD cannot be read (the shards merged before it stay "
     "merged)"},
    END_STATUSES,
};

static const gs_cli_option prune_options[] = {
    OPT_DB,      OPT_DRY_RUN("count the files that would be removed; remove nothing"),
    OPT_BUSY,    OPT_JSON("one JSON object per removed file, then a summary object"),
    END_OPTIONS,
};
static const gs_cli_status prune_statuses[] = {
    {0, "success"},
    STATUS_USAGE,
    STATUS_INDEX,
    END_STATUSES,
};

static const gs_cli_spec classify_spec = {
    "classify",
    "print the genres of audio files",
    "[OPTIONS] FILE|DIR...",
    GS_CLI_PATH,
    "Prints the most likely genres of each audio file (any format libsndfile or FFmpeg decodes: "
    "WAV, AIFF, FLAC, Ogg, Opus, MP3, M4A/AAC, ALAC...), with their probabilities, or why it has "
    "none (silent, not music). A folder stands for the audio files under it, found as scan finds "
    "them (recursively, hidden and system folders skipped, in path order). Genres are shown by "
    "their display names. No index is used and nothing is written.",
    classify_options,
    classify_statuses,
};

static const gs_cli_spec scan_spec = {
    "scan",
    "analyse a music library, tag files and index them",
    "[OPTIONS] DIR|FILE...",
    GS_CLI_PATH,
    "Analyses every audio file under the DIRs, writes the genre tag where a file has none, and "
    "records everything in the index. Unchanged files analysed by the same model are skipped, "
    "so an interrupted scan resumes. Index rows of files under the DIRs that no longer exist "
    "are removed. Only one scan at a time may use an index.",
    scan_options,
    scan_statuses,
};

static const gs_cli_spec rescan_spec = {
    "rescan",
    "re-analyse indexed files (or DIRs) on purpose",
    "[OPTIONS] [DIR|FILE...]",
    GS_CLI_PATH,
    "Re-analyses on purpose, even unchanged files: every file under the DIRs, or with no DIR "
    "every file in the index. Otherwise as scan, with the same options.",
    scan_options,
    scan_statuses,
};

static const gs_cli_spec show_spec = {
    "show",
    "print what the index knows about a file, with its timeline",
    "[OPTIONS] FILE|ID",
    GS_CLI_TRACK,
    "Prints a file's genre, confidence, model, tag status, every genre's score and the genre "
    "timeline (one verdict per 30 s window) recorded by the last scan. FILE may also be the "
    "track's ID in the index.",
    show_options,
    show_statuses,
};

static const gs_cli_spec similar_spec = {
    "similar",
    "tracks that sound most like a file",
    "[OPTIONS] FILE|ID",
    GS_CLI_TRACK,
    "Lists the indexed tracks that sound most like FILE (or track ID), by cosine similarity of "
    "their embeddings, most similar first. Only tracks analysed by the same model as FILE are "
    "compared; how many others were left out is reported on standard error (or in a JSON "
    "summary line). A track of 10 minutes or more (a DJ mix, a live set) is compared by its "
    "30 s parts, not by one average of all of it: a mix is listed for a track that one of its "
    "parts sounds like, with the time of that part, and a mix as FILE lists the tracks that "
    "sound like any of its parts. --at compares one part of FILE only.",
    similar_options,
    similar_statuses,
};

static const gs_cli_spec query_spec = {
    "query",
    "tracks by genre distribution",
    "[OPTIONS] --genre G | --mixed G1,G2,... | --status S | --tag-genre G | --duplicates",
    GS_CLI_NO_ARG,
    "Lists tracks by genre: with --genre, those whose top genre is G; with --mixed, those "
    "scoring at least --min-score in every listed genre. Genres are labels or display names, "
    "any case. Only tracks analysed by the model (--model, default the built-in one) are "
    "listed, as scores of different models are not comparable; --any-model lists every "
    "model's.\n\n"
    "Finding things without SQL: --status lists tracks by what happened to them, --tag-genre "
    "by the genre their own tag holds (both together: tracks matching both), --duplicates "
    "the groups of tracks with the same audio.",
    query_options,
    query_statuses,
};

static const gs_cli_spec playlist_spec = {
    "playlist",
    "a playlist that stays near a seed track",
    "--seed FILE|ID [OPTIONS]",
    GS_CLI_NO_ARG,
    "Builds a playlist that starts at the seed and each time picks the unused track closest to "
    "a blend of the current track and the seed, so it drifts smoothly, stays near the seed and "
    "never repeats, from the tracks the seed's model analysed. Writes M3U8 (#EXTM3U, #EXTINF "
    "with durations and \"Artist - Title\" from the tags) to --out or standard output. Every "
    "entry is one file and the list is valid UTF-8: a name that is not UTF-8, holds a newline "
    "or another control character, or would read as a directive or URL is written as a "
    "percent-encoded file:// URI.",
    playlist_options,
    playlist_statuses,
};

static const gs_cli_spec stats_spec = {
    "stats",
    "genre histogram and index size",
    "[OPTIONS]",
    GS_CLI_NO_ARG,
    "Prints the genre histogram, counts of analysed, failed and silent files, tag outcomes, "
    "the models used and the index size.",
    stats_options,
    stats_statuses,
};

static const gs_cli_spec merge_spec = {
    "merge",
    "combine shard indexes into one",
    "[OPTIONS] OUT.sqlite SHARD.sqlite...",
    GS_CLI_FILE,
    "Adds every track of the shard indexes (made by scan --shard K/N) to OUT, created if "
    "missing; a path present in several takes the last shard's row. Each shard is merged in "
    "one transaction.",
    merge_options,
    merge_statuses,
};

static const gs_cli_spec prune_spec = {
    "prune",
    "remove index entries of files that no longer exist",
    "[OPTIONS]",
    GS_CLI_NO_ARG,
    "Removes from the index every file that no longer exists (moved or deleted); a scan of a "
    "DIR does this for that DIR only. A file on an unmounted disk is missing too: mount it "
    "first.",
    prune_options,
    prune_statuses,
};

static const gs_cli_option config_options[] = {
    OPT_JSON("one JSON object per setting: key, value, source (\"default\" or the file and line)"),
    END_OPTIONS,
};
static const gs_cli_status config_statuses[] = {
    {0, "success"},
    {2,
     "bad usage, or a configuration file with an unknown key or a bad value (the message names "
     "its line)"},
    END_STATUSES,
};
static const gs_cli_spec config_spec = {
    "config",
    "the settings in effect and where each comes from",
    "[OPTIONS]",
    GS_CLI_NO_ARG,
    "Prints every setting the configuration file can hold, its value and where it comes from: the "
    "file (with its line) or the default. The file is $XDG_CONFIG_HOME/genrescope/config "
    "(~/.config/genrescope/config), or the one GENRESCOPE_CONFIG names: lines 'key = value', '#' "
    "comments, double quotes keep spaces. Keys: db, model, multi (yes/no), multi-threshold, "
    "multi-separator, min-confidence, overwrite (yes/no), genre-names, jobs; each sets the "
    "default of the option of that name, and an option given on the command line wins. See "
    "genrescope(5).",
    config_options,
    config_statuses,
};

const gs_cli_spec *const gs_cli_commands[] = {
    &classify_spec, &scan_spec,  &rescan_spec, &show_spec,  &similar_spec, &query_spec,
    &playlist_spec, &stats_spec, &merge_spec,  &prune_spec, &config_spec,  NULL,
};
