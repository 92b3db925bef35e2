/* The scan pipeline: worker threads (one analyser worker each) take files
 * from the list, analyse and tag them, and push results through an
 * unbounded queue (a worker never waits for a commit) to one writer thread
 * that owns the index connection and commits in batches (every batch_size
 * results or batch_seconds), so an interruption (Ctrl-C, kill -9, full
 * disk) loses at most the uncommitted batch. */
#ifndef GS_TAGGER_SCAN_H
#define GS_TAGGER_SCAN_H

#include <signal.h>
#include <stdio.h>

#include "analyser.h"
#include "index_db.h"
#include "tag_writer.h"
#include "walk.h"

typedef enum gs_report_mode { GS_REPORT_PROGRESS, GS_REPORT_QUIET, GS_REPORT_JSON } gs_report_mode;

typedef struct gs_scan_options {
    int num_workers;
    int force;      /* re-analyse unchanged files too (rescan) */
    int write_tags; /* 0: --no-tags */
    int overwrite;
    int dry_run;  /* analyse and report; no tag and no index writes */
    int multi;    /* multi-valued genre of every genre >= multi_threshold */
    int no_multi; /* --no-multi: the top genre only, even where a file holds
                             several genres we wrote (else such a file keeps
                             getting several: a plain scan never undoes --multi) */
    float multi_threshold;
    const char *multi_separator;       /* NULL: each format's own multi-value form;
                                    else one string joined by it */
    float min_confidence;              /* verdicts below are indexed, not written as tags */
#define GS_DEFAULT_MIN_CONFIDENCE 0.5f /* for models that recommend none */
    int break_hardlinks;               /* tag hard-linked files by copy+rename anyway */
    /* Canonical roots that were walked: index rows under them whose file
     * no longer exists are removed (NULL/0: none, e.g. rescan of the index). */
    const char *const *prune_roots;
    int num_prune_roots;
    int batch_size;
    double batch_seconds;
    gs_report_mode report;
    FILE *out;      /* JSON lines and summary (stdout) */
    FILE *progress; /* progress line (stderr, only on a terminal) */
    int progress_tty;
    volatile sig_atomic_t *stop; /* set asynchronously to stop early */
} gs_scan_options;

enum {
    GS_FAIL_MISSING,
    GS_FAIL_PERMISSION,
    GS_FAIL_UNREADABLE,
    GS_FAIL_NOT_AUDIO,
    GS_FAIL_UNSUPPORTED,
    GS_FAIL_OTHER,
    GS_FAIL_COUNT
};

typedef struct gs_scan_stats {
    size_t total;     /* files found (after sharding) */
    size_t unchanged; /* skipped: analysed before by the same model */
    size_t moved;     /* a vanished track found at this new path (kept its
                              row; analysed again only if it had to be) */
    size_t analysed;
    size_t tagged;         /* tags written (or would be, dry run) */
    size_t already_tagged; /* file had exactly this genre */
    size_t kept;           /* file had another genre, kept */
    size_t not_tagged;     /* read-only or TagLib cannot write */
    size_t hard_linked;    /* several names: left untouched */
    size_t low_confidence; /* verdict below --min-confidence: not tagged */
    size_t retagged;       /* unchanged files whose tag was (re)written from the index
                              (also counted in tagged) */
    size_t silent;         /* analysed, no genre (silent throughout) */
    size_t not_music;      /* analysed, no genre: not music (noise, tones, speech...) */
    size_t removed;        /* index rows of files that no longer exist */
    size_t tag_failed;
    size_t failed;
    size_t failed_by[GS_FAIL_COUNT];
    size_t lost; /* analysed but not committed (fatal index error) */
    int interrupted;
    int index_error; /* writing the index failed: err says why */
} gs_scan_stats;

const char *gs_scan_fail_name(int reason);

/* Scans files into ix with analyser an. Returns GS_OK when the run
 * completed (files may still have failed: see stats), or the fatal error
 * that stopped it (index write failure) with err set; stats are filled in
 * both cases. */
gs_status gs_scan_run(gs_analyser *an, gs_index *ix, const gs_walk_list *files, const gs_scan_options *opts,
                      gs_scan_stats *stats, gs_error *err);

/* Progress/summary output (scan_report.c). */
typedef struct gs_scan_file_report {
    const char *path;
    const char *status;     /* "analysed", "unchanged", "moved", "failed", "removed" */
    const char *moved_from; /* the path the index knew this track at, or NULL */
    const char *genre;      /* display name or NULL */
    const char *label;      /* the model's raw label of genre, or NULL */
    float confidence;
    const char *verdict; /* "genre", "not-music", "silent" or NULL (not analysed now) */
    float not_music;     /* probability of not music, for a not-music verdict */
    gs_tag_outcome tag;  /* what became of the tag; GS_TAG_OUTCOME_COUNT: nothing to say */
    const char *tag_detail;
    const char *error;
} gs_scan_file_report;

void gs_scan_report_file(const gs_scan_options *opts, const gs_scan_file_report *r);
void gs_scan_report_progress(const gs_scan_options *opts, size_t done, size_t total, double elapsed,
                             const char *current);
void gs_scan_report_summary(const gs_scan_options *opts, const gs_scan_stats *s, double elapsed);

#endif
