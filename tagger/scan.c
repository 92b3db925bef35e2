/* The scan pipeline (scan.h): planning what to analyse, the workers, the
 * writer thread and its batches, moves and removals. */
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_digest.h"
#include "genre_names.h"
#include "tag_writer.h"

#define NAME_SIZE 128

typedef struct scan_item {
    struct scan_item *next; /* in the writer's queue */
    size_t file;            /* index into the walk list */
    int failed, reason;
    char error[GS_ERROR_MESSAGE_SIZE];
    gs_track_result result;
    int retag;        /* unchanged file: tag from the stored verdict only */
    const char *ours; /* genre genrescope last wrote (owned by the job) */
    int tag_tried;
    int low_confidence;
    gs_tag_outcome tag;
    char tag_msg[256];
    char tag_genre[GS_MAX_LABELS * NAME_SIZE];  /* what the file now holds of ours */
    int64_t size, mtime_ns;                     /* after tagging: what the next scan will see */
    uint64_t file_digest;                       /* after tagging; 0 if it could not be read */
    char file_genre[GS_MAX_LABELS * NAME_SIZE]; /* the genre the file holds now */
    int file_genre_known;
    int is_new;             /* no index row at this path */
    const char *moved_from; /* the vanished row this file is (borrowed) */
    int moved_in_plan;      /* that row was moved here before the workers ran */
} scan_item;

/* A file for the workers: analyse it, or (retag) only write its tag from
 * the verdict the index holds. */
typedef struct scan_job {
    size_t file;
    int retag;
    char *ours;
    gs_track_result verdict; /* retag only; moved to the item */
    int is_new;              /* no index row at this path (nor one moved here) */
    const char *moved_from;  /* found by its file digest: the row moved here */
} scan_job;

typedef struct vanished_key {
    uint64_t a, b; /* (size, file digest) or (audio digest, 0) */
    size_t known;  /* index into scan_ctx.known */
} vanished_key;

typedef struct scan_ctx {
    gs_analyser *an;
    gs_index *ix;
    const gs_walk_list *files;
    const gs_scan_options *opts;
    scan_job *todo;
    size_t num_todo, todo_cap;
    atomic_size_t next;
    atomic_int abort_run; /* fatal index error: stop taking files */

    /* Workers to writer. Unbounded so that a worker never waits for the
     * writer (a commit, a busy index): items are small, and at most the
     * files in flight while the writer is held up. */
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    scan_item *q_head, *q_tail;
    size_t q_count;
    int workers_left;

    gs_scan_stats *stats;
    gs_error fatal;
    double t0;
    size_t done; /* files accounted for, for progress */

    /* What the index knew at the start, and which of it is gone: rows
     * under the scanned roots whose file no longer exists. A new file whose
     * file or audio digest matches one is that track, moved (claimed under
     * lock: workers claim by audio digest); the rest are pruned at the end. */
    gs_index_known *known;
    size_t num_known;
    size_t *vanished; /* indices into known */
    size_t num_vanished;
    unsigned char *claimed; /* per known row: a new file turned out to be it */
    /* The vanished rows sorted by (size, file digest) and by audio digest,
     * so each new file finds its row in log time: renaming the library's top
     * folder makes every file both vanished and new. */
    vanished_key *by_file, *by_audio;
    size_t num_by_audio;
} scan_ctx;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *gs_scan_fail_name(int reason)
{
    static const char *const names[GS_FAIL_COUNT] = {
        "missing", "permission denied", "unreadable", "not audio or corrupt", "unsupported codec", "other",
    };
    return reason >= 0 && reason < GS_FAIL_COUNT ? names[reason] : "other";
}

static int stopping(const scan_ctx *c)
{
    return atomic_load(&c->abort_run) || (c->opts->stop && *c->opts->stop);
}

static void queue_push(scan_ctx *c, scan_item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->q_tail)
        c->q_tail->next = it;
    else
        c->q_head = it;
    c->q_tail = it;
    c->q_count++;
    pthread_cond_signal(&c->not_empty);
    pthread_mutex_unlock(&c->lock);
}

/* Pops an item, waiting at most wait_seconds for one (so a batch is
 * committed on time; 0: no wait). Returns NULL on timeout or when every
 * worker is done and the queue is empty (*finished = 1). */
static scan_item *queue_pop(scan_ctx *c, double wait_seconds, int *finished)
{
    *finished = 0;
    pthread_mutex_lock(&c->lock);
    if (c->q_count == 0 && c->workers_left > 0 && wait_seconds > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double t = (double)ts.tv_sec + ts.tv_nsec * 1e-9 + wait_seconds;
        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        while (c->q_count == 0 && c->workers_left > 0)
            if (pthread_cond_timedwait(&c->not_empty, &c->lock, &ts) == ETIMEDOUT)
                break;
    }
    scan_item *it = NULL;
    if (c->q_count > 0) {
        it = c->q_head;
        if (!(c->q_head = it->next))
            c->q_tail = NULL;
        c->q_count--;
    } else if (c->workers_left == 0) {
        *finished = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return it;
}

/* Why a file cannot be analysed, checked before decoding so the reason is
 * precise (the decoders' messages vary). */
static int precheck(const char *path, int64_t *size, char *msg, size_t msg_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, msg_size, "%s", strerror(e));
        return e == ENOENT || e == ENOTDIR ? GS_FAIL_MISSING
            : e == EACCES || e == EPERM    ? GS_FAIL_PERMISSION
                                           : GS_FAIL_UNREADABLE;
    }
    struct stat st;
    int rc = fstat(fd, &st);
    close(fd);
    if (rc != 0) {
        snprintf(msg, msg_size, "%s", strerror(errno));
        return GS_FAIL_UNREADABLE;
    }
    *size = (int64_t)st.st_size;
    if (st.st_size == 0) {
        snprintf(msg, msg_size, "empty file (0 bytes)");
        return GS_FAIL_NOT_AUDIO;
    }
    return -1;
}

static int reason_of(const gs_error *e)
{
    switch (e->code) {
    case GS_ERR_FORMAT: return GS_FAIL_NOT_AUDIO;
    case GS_ERR_UNSUPPORTED: return GS_FAIL_UNSUPPORTED;
    case GS_ERR_IO:
        if (e->sys_errno == ENOENT || e->sys_errno == ENOTDIR)
            return GS_FAIL_MISSING;
        if (e->sys_errno == EACCES || e->sys_errno == EPERM)
            return GS_FAIL_PERMISSION;
        return GS_FAIL_UNREADABLE;
    default: return GS_FAIL_OTHER;
    }
}

/* Genres to write: the top one, plus with --multi every other genre at or
 * above the threshold, most likely first. */
/* Whether a file gets several genres: --multi, or it holds several that
 * genrescope wrote (ours) and --no-multi was not given, so a plain scan
 * (from cron, without the options of the first one) never undoes a choice. */
static int wants_multi(const gs_scan_options *o, const char *ours)
{
    if (o->multi || o->no_multi || !ours)
        return o->multi;
    return strstr(ours, "; ") || (o->multi_separator && strstr(ours, o->multi_separator));
}

static int tag_genres(gs_analyser *an, const gs_scan_options *o, const gs_track_result *r, const char *ours,
                      char names[][NAME_SIZE], const char **ptrs)
{
    int n = 0;
    gs_genre_display_name(gs_analyser_label(an, r->top_label), names[n], NAME_SIZE);
    ptrs[n] = names[n];
    n++;
    if (!wants_multi(o, ours))
        return n;
    int used[GS_MAX_LABELS] = {0};
    used[r->top_label] = 1;
    int not_music = gs_analyser_not_music_label(an);
    if (not_music >= 0 && not_music < GS_MAX_LABELS)
        used[not_music] = 1; /* never a genre */
    for (;;) {
        int best = -1;
        for (int i = 0; i < r->num_labels && i < GS_MAX_LABELS; i++)
            if (!used[i] && r->probabilities[i] >= o->multi_threshold &&
                (best < 0 || r->probabilities[i] > r->probabilities[best]))
                best = i;
        if (best < 0)
            return n;
        used[best] = 1;
        gs_genre_display_name(gs_analyser_label(an, best), names[n], NAME_SIZE);
        ptrs[n] = names[n];
        n++;
    }
}

/* Writes the tag of a verdict (fresh or from the index). */
static void tag_one(scan_ctx *c, scan_item *it)
{
    const gs_walk_entry *e = &c->files->entries[it->file];
    snprintf(it->tag_genre, sizeof it->tag_genre, "%s", it->ours ? it->ours : "");
    if (!c->opts->write_tags || it->result.verdict != GS_VERDICT_GENRE || it->result.top_label < 0)
        return;
    /* Written so that a NaN confidence can never pass. */
    if (!(it->result.confidence >= c->opts->min_confidence)) {
        it->low_confidence = 1;
        snprintf(it->tag_msg, sizeof it->tag_msg, "low confidence: not tagged (%.2f < %.2f)",
                 (double)it->result.confidence, (double)c->opts->min_confidence);
        return;
    }
    char names[GS_MAX_LABELS][NAME_SIZE];
    const char *ptrs[GS_MAX_LABELS];
    gs_tag_request req = {
        .genres = ptrs,
        .num_genres = tag_genres(c->an, c->opts, &it->result, it->ours, names, ptrs),
        .confidence = it->result.confidence,
        .overwrite = c->opts->overwrite,
        .dry_run = c->opts->dry_run,
        .ours = it->ours,
        .break_hardlinks = c->opts->break_hardlinks,
        .cancel = c->opts->stop,
        .separator = c->opts->multi_separator,
    };
    it->tag_tried = 1;
    it->tag = gs_tag_write(e->path, &req, it->file_genre, sizeof it->file_genre, it->tag_msg, sizeof it->tag_msg);
    it->file_genre_known = it->tag != GS_TAG_UNSUPPORTED;
    if (it->tag == GS_TAG_SAME && !it->ours && !c->opts->dry_run) {
        /* Exactly our genres and exactly the confidence field we would
         * write: a scan that died before committing (kill -9) wrote it.
         * It is ours, not the user's, so later scans may update it. */
        char file_genre[GS_MAX_LABELS * NAME_SIZE], file_conf[32], want_conf[32];
        gs_tag_format_confidence(req.confidence, want_conf, sizeof want_conf);
        if (gs_tag_read(e->path, file_genre, sizeof file_genre, file_conf, sizeof file_conf) == 0 &&
            !strcmp(file_conf, want_conf))
            gs_tag_join_as_written(ptrs, req.num_genres, req.separator, it->tag_genre, sizeof it->tag_genre);
    }
    if (it->tag == GS_TAG_WRITTEN) {
        gs_tag_join_as_written(ptrs, req.num_genres, req.separator, it->tag_genre, sizeof it->tag_genre);
        snprintf(it->file_genre, sizeof it->file_genre, "%s", it->tag_genre);
        struct stat st;
        if (stat(e->path, &st) == 0) {
            it->size = (int64_t)st.st_size;
            it->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        }
    }
}

static int compare_keys(const void *x, const void *y)
{
    const vanished_key *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    return p->known < q->known ? -1 : p->known > q->known; /* the order the index lists them */
}

/* The first unclaimed row with key (a, b) in sorted keys, claimed; NULL if
 * none. The caller serialises claims. */
static const gs_index_known *claim(scan_ctx *c, const vanished_key *keys, size_t n, uint64_t a, uint64_t b)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid].a < a || (keys[mid].a == a && keys[mid].b < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && keys[lo].a == a && keys[lo].b == b; lo++) {
        if (!c->claimed[keys[lo].known]) {
            c->claimed[keys[lo].known] = 1;
            return &c->known[keys[lo].known];
        }
    }
    return NULL;
}

/* A new file whose decoded audio is that of a vanished track is the track,
 * moved (and its tags perhaps edited on the way): it keeps the row, and the
 * genre we wrote stays ours. The first file to claim a row gets it; a
 * second copy is a new track (a duplicate). */
static void claim_by_audio(scan_ctx *c, scan_item *it)
{
    uint64_t d = it->result.audio_digest;
    if (!d || !c->num_by_audio)
        return;
    pthread_mutex_lock(&c->lock);
    const gs_index_known *k = claim(c, c->by_audio, c->num_by_audio, d, 0);
    if (k) {
        it->moved_from = k->path;
        if (!it->ours)
            it->ours = k->tag_genre;
    }
    pthread_mutex_unlock(&c->lock);
}

/* What the index keeps of the file as the next scan will see it (after
 * our tag write): its digest (its head was just read, so this is cheap) and
 * the genre it holds, read unless the tag write already told. */
static void record_file_digest(scan_item *it, const char *path)
{
    if (gs_file_digest(path, it->size, &it->file_digest) != 0)
        it->file_digest = 0;
    char confidence[32];
    if (!it->tag_tried)
        it->file_genre_known =
            gs_tag_read(path, it->file_genre, sizeof it->file_genre, confidence, sizeof confidence) == 0;
}

static void analyse_one(scan_ctx *c, gs_analyser_worker *w, scan_item *it)
{
    const gs_walk_entry *e = &c->files->entries[it->file];
    it->size = e->size;
    it->mtime_ns = e->mtime_ns;
    if (it->retag) {
        tag_one(c, it);
        record_file_digest(it, e->path);
        return;
    }
    int64_t size = 0;
    int reason = precheck(e->path, &size, it->error, sizeof it->error);
    if (reason >= 0) {
        it->failed = 1;
        it->reason = reason;
        return;
    }
    gs_error err;
    gs_error_clear(&err);
    if (gs_analyser_analyse(w, e->path, &it->result, &err) != GS_OK) {
        it->failed = 1;
        it->reason = reason_of(&err);
        snprintf(it->error, sizeof it->error, "%s", err.message);
        return;
    }
    if (it->is_new)
        claim_by_audio(c, it);
    tag_one(c, it);
    record_file_digest(it, e->path);
}

typedef struct worker_arg {
    scan_ctx *c;
    gs_analyser_worker *w;
} worker_arg;

/* Asks the kernel to start reading the head of a file in the background,
 * so its decode finds it in memory: with workers = cores, the disk works
 * while the CPU decodes and runs the network on the current file. */
static void prefetch(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
    if (fd < 0)
        fd = open(path, O_RDONLY | O_CLOEXEC); /* O_NOATIME needs ownership */
    if (fd < 0)
        return;
    posix_fadvise(fd, 0, 16 << 20, POSIX_FADV_WILLNEED);
    close(fd);
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    scan_ctx *c = a->c;
    /* Each worker claims its next file before analysing the current one,
     * to prefetch it. */
    size_t i = atomic_fetch_add(&c->next, 1);
    while (!stopping(c) && i < c->num_todo) {
        size_t next = atomic_fetch_add(&c->next, 1);
        if (next < c->num_todo)
            prefetch(c->files->entries[c->todo[next].file].path);
        scan_item *it = calloc(1, sizeof *it);
        if (!it) {
            atomic_store(&c->abort_run, 1);
            break;
        }
        scan_job *job = &c->todo[i];
        it->file = job->file;
        it->retag = job->retag;
        it->ours = job->ours;
        it->is_new = job->is_new;
        it->moved_from = job->moved_from;
        it->moved_in_plan = job->moved_from != NULL;
        if (job->retag) {
            it->result = job->verdict;
            memset(&job->verdict, 0, sizeof job->verdict);
        }
        analyse_one(c, a->w, it);
        queue_push(c, it);
        i = next;
    }
    pthread_mutex_lock(&c->lock);
    c->workers_left--;
    pthread_cond_broadcast(&c->not_empty);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void account(scan_ctx *c, scan_item *it, int lost)
{
    gs_scan_stats *s = c->stats;
    const gs_walk_entry *e = &c->files->entries[it->file];
    gs_scan_file_report r = {.path = e->path, .confidence = -1, .tag = GS_TAG_OUTCOME_COUNT};
    char display[NAME_SIZE];
    if (lost)
        s->lost++;
    r.moved_from = it->moved_from;
    if (it->moved_from)
        s->moved++;
    if (it->failed) {
        s->failed++;
        s->failed_by[it->reason]++;
        r.status = "failed";
        r.error = it->error;
    } else {
        if (it->retag) {
            if (!it->moved_from)
                s->unchanged++;
            /* Only what changed a file: a retried tag that is again
             * read-only or kept is counted under that outcome alone. */
            if (it->tag_tried && (it->tag == GS_TAG_WRITTEN || it->tag == GS_TAG_WOULD_WRITE))
                s->retagged++;
            r.status = it->moved_from ? "moved" : "unchanged";
        } else {
            s->analysed++;
            r.status = "analysed";
            if (it->result.verdict == GS_VERDICT_SILENT)
                s->silent++;
            else if (it->result.verdict == GS_VERDICT_NOT_MUSIC)
                s->not_music++;
        }
        r.verdict = gs_verdict_kind_name(it->result.verdict);
        if (it->result.verdict == GS_VERDICT_NOT_MUSIC)
            r.not_music = it->result.not_music;
        if (it->low_confidence) {
            s->low_confidence++;
            r.tag = GS_TAG_LOW_CONFIDENCE;
            r.tag_detail = it->tag_msg;
        }
        if (it->result.top_label >= 0) {
            r.label = gs_analyser_label(c->an, it->result.top_label);
            gs_genre_display_name(r.label, display, sizeof display);
            r.genre = display;
            r.confidence = it->result.confidence;
        }
        if (it->tag_tried) {
            r.tag = it->tag;
            r.tag_detail = it->tag_msg[0] ? it->tag_msg : NULL;
            switch (it->tag) {
            case GS_TAG_WRITTEN:
            case GS_TAG_WOULD_WRITE: s->tagged++; break;
            case GS_TAG_SAME: s->already_tagged++; break;
            case GS_TAG_KEPT: s->kept++; break;
            case GS_TAG_READ_ONLY:
            case GS_TAG_UNSUPPORTED: s->not_tagged++; break;
            case GS_TAG_FAILED: s->tag_failed++; break;
            case GS_TAG_HARDLINKED: s->hard_linked++; break;
            default: break; /* not an outcome of a write */
            }
        }
    }
    c->done++;
    gs_scan_report_file(c->opts, &r);
    gs_scan_report_progress(c->opts, c->done, c->stats->total, now_seconds() - c->t0, e->path);
}

static gs_status put_item(scan_ctx *c, scan_item *it, const char *const *labels, gs_error *err)
{
    const gs_walk_entry *e = &c->files->entries[it->file];
    const char *dot = strrchr(e->path, '.');
    char format[16] = "";
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i + 1 < sizeof format && dot[1 + i]; i++) {
            format[i] = (char)(dot[1 + i] | ((dot[1 + i] >= 'A' && dot[1 + i] <= 'Z') ? 0x20 : 0));
            format[i + 1] = '\0';
        }
    const char *tag_status = gs_tag_outcome_name(!c->opts->write_tags     ? GS_TAG_DISABLED
                                                     : it->tag_tried      ? it->tag
                                                     : it->low_confidence ? GS_TAG_LOW_CONFIDENCE
                                                     : it->result.verdict == GS_VERDICT_NOT_MUSIC ? GS_TAG_NOT_MUSIC
                                                                                                  : GS_TAG_NONE);
    const char *tag_genre = it->tag_genre[0] ? it->tag_genre : NULL;
    if (it->moved_from && !it->moved_in_plan) {
        gs_status st = gs_index_move(c->ix, it->moved_from, e->path, it->mtime_ns, err);
        if (st != GS_OK)
            return st;
    }
    if (it->retag)
        return gs_index_put_tag(c->ix, e->path, it->size, it->mtime_ns, tag_status, it->tag_msg[0] ? it->tag_msg : NULL,
                                tag_genre, it->file_digest, it->file_genre_known ? it->file_genre : NULL, err);
    gs_index_record rec = {
        .path = e->path,
        .size = it->size,
        .mtime_ns = it->mtime_ns,
        .format = format,
        .model_id = gs_analyser_model_id(c->an),
        .analysed_at = (int64_t)time(NULL),
        .error = it->failed ? it->error : NULL,
        .result = it->failed ? NULL : &it->result,
        .labels = labels,
        .not_music_label = gs_analyser_not_music_label(c->an),
        .tag_status = tag_status,
        .tag_message = it->tag_msg[0] ? it->tag_msg : NULL,
        .tag_genre = it->failed ? it->ours : tag_genre,
        .file_digest = it->failed ? 0 : it->file_digest,
        .file_genre = !it->failed && it->file_genre_known ? it->file_genre : NULL,
    };
    return gs_index_put(c->ix, &rec, err);
}

static void free_item(scan_item *it)
{
    if (!it->failed)
        gs_analyser_result_free(&it->result);
    free(it);
}

/* The writer: owns the connection, commits in batches. */
static void writer_loop(scan_ctx *c)
{
    const gs_scan_options *o = c->opts;
    const char *labels[GS_MAX_LABELS];
    for (int i = 0; i < gs_analyser_num_labels(c->an) && i < GS_MAX_LABELS; i++)
        labels[i] = gs_analyser_label(c->an, i);
    int write = !o->dry_run && !c->stats->index_error;
    scan_item **batch = calloc((size_t)o->batch_size, sizeof *batch);
    size_t nbatch = 0;
    double batch_start = 0;
    if (!batch) {
        gs_error_set(&c->fatal, GS_ERR_NOMEM, "out of memory");
        c->stats->index_error = 1;
        atomic_store(&c->abort_run, 1);
        write = 0;
    }
    for (;;) {
        double wait = 0.25;
        if (nbatch > 0) {
            double left = o->batch_seconds - (now_seconds() - batch_start);
            wait = left < wait ? (left > 0.001 ? left : 0.001) : wait;
        }
        int finished;
        scan_item *it = queue_pop(c, wait, &finished);
        if (it) {
            if (!write || !batch) {
                account(c, it, write ? 0 : c->stats->index_error);
                free_item(it);
            } else {
                gs_error err;
                gs_status st = GS_OK;
                if (nbatch == 0) {
                    st = gs_index_begin(c->ix, &err);
                    batch_start = now_seconds();
                }
                if (st == GS_OK)
                    st = put_item(c, it, labels, &err);
                batch[nbatch++] = it;
                if (st != GS_OK) {
                    /* The whole open batch is lost; everything committed
                     * before stays. Stop analysing: nothing more can be
                     * saved. */
                    gs_index_rollback(c->ix);
                    c->fatal = err;
                    c->stats->index_error = 1;
                    atomic_store(&c->abort_run, 1);
                    write = 0;
                    for (size_t i = 0; i < nbatch; i++) {
                        account(c, batch[i], 1);
                        free_item(batch[i]);
                    }
                    nbatch = 0;
                }
            }
        }
        if (write && nbatch > 0 &&
            (finished || (int)nbatch >= o->batch_size || now_seconds() - batch_start >= o->batch_seconds)) {
            gs_error err;
            int ok = gs_index_commit(c->ix, &err) == GS_OK;
            if (!ok) {
                c->fatal = err;
                c->stats->index_error = 1;
                atomic_store(&c->abort_run, 1);
                write = 0;
            }
            for (size_t i = 0; i < nbatch; i++) {
                account(c, batch[i], !ok);
                free_item(batch[i]);
            }
            nbatch = 0;
        }
        if (finished)
            break;
    }
    free(batch);
}

static void gs_track_result_free_owned(gs_track_result *r)
{
    free(r->probabilities);
    memset(r, 0, sizeof *r);
}

static void free_jobs(scan_ctx *c)
{
    /* The slot after the last job may hold a half-planned one. */
    for (size_t i = 0; c->todo && i < c->todo_cap && i <= c->num_todo; i++) {
        free(c->todo[i].ours);
        gs_track_result_free_owned(&c->todo[i].verdict);
    }
    free(c->todo);
    c->todo = NULL;
}

static void free_known(scan_ctx *c)
{
    gs_index_known_free(c->known, c->num_known);
    free(c->vanished);
    free(c->claimed);
    free(c->by_file);
    free(c->by_audio);
    c->known = NULL;
    c->vanished = NULL;
    c->claimed = NULL;
    c->by_file = c->by_audio = NULL;
    c->num_known = c->num_vanished = c->num_by_audio = 0;
}

static int gs_error_is_index(gs_status st)
{
    return st != GS_ERR_NOMEM;
}

/* Whether an unchanged file's tag must be (re)written from its stored
 * verdict: the last write failed or could not happen, or the current
 * options would write something else. Fills *verdict (probabilities
 * only) when it must. */
static gs_status plan_retag(scan_ctx *c, const gs_index_known *k, gs_track_result *verdict, int *retag, gs_error *err)
{
    const gs_scan_options *o = c->opts;
    *retag = 0;
    if (!o->write_tags || !k->top_genre || !(k->confidence >= o->min_confidence))
        return GS_OK;
    int maybe = 0;
    switch (k->tag_status ? gs_tag_outcome_parse(k->tag_status) : GS_TAG_NONE) {
    case GS_TAG_FAILED:
    case GS_TAG_READ_ONLY:
    case GS_TAG_DISABLED:
    case GS_TAG_NONE:
    case GS_TAG_LOW_CONFIDENCE: maybe = 1; break;
    case GS_TAG_HARDLINKED: maybe = o->break_hardlinks; break;
    case GS_TAG_KEPT: maybe = o->overwrite; break;
    case GS_TAG_WRITTEN:
    case GS_TAG_SAME: maybe = 2; break; /* only if the genres to write differ from the file's */
    case GS_TAG_UNSUPPORTED:            /* TagLib cannot tag it, whatever the options */
    case GS_TAG_WOULD_WRITE:            /* never stored */
    case GS_TAG_NOT_MUSIC:              /* no genre (top_genre is NULL: not reached) */
    case GS_TAG_OUTCOME_COUNT: break;   /* a status a newer genrescope wrote: leave it */
    }
    if (!maybe)
        return GS_OK;
    int n = gs_analyser_num_labels(c->an);
    int top = -1;
    for (int i = 0; i < n && i < GS_MAX_LABELS; i++)
        if (!strcmp(gs_analyser_label(c->an, i), k->top_genre))
            top = i;
    if (top < 0)
        return GS_OK;
    verdict->probabilities = calloc((size_t)n, sizeof *verdict->probabilities);
    if (!verdict->probabilities)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    verdict->num_labels = n;
    verdict->verdict = GS_VERDICT_GENRE;
    verdict->top_label = top;
    verdict->confidence = k->confidence;
    if (wants_multi(o, k->tag_genre)) {
        const char *labels[GS_MAX_LABELS];
        for (int i = 0; i < n && i < GS_MAX_LABELS; i++)
            labels[i] = gs_analyser_label(c->an, i);
        gs_status st = gs_index_load_scores(c->ix, k->path, labels, n, verdict->probabilities, err);
        if (st != GS_OK)
            return st;
    }
    verdict->probabilities[top] = k->confidence;
    if (maybe == 2) {
        char names[GS_MAX_LABELS][NAME_SIZE];
        const char *ptrs[GS_MAX_LABELS];
        char joined[GS_MAX_LABELS * NAME_SIZE];
        gs_tag_join_as_written(ptrs, tag_genres(c->an, o, verdict, k->tag_genre, names, ptrs), o->multi_separator,
                               joined, sizeof joined);
        /* A genre that is the user's (no record of ours) only changes with
         * --overwrite, and then only if there is more to write than the
         * top genre it already equals. */
        maybe = k->tag_genre ? strcmp(joined, k->tag_genre) != 0 : o->overwrite && strchr(joined, ';') != NULL;
    }
    *retag = maybe;
    return GS_OK;
}

static int under_root(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n > 1 && root[n - 1] == '/')
        n--;
    return !strncmp(path, root, n) && (path[n] == '/' || path[n] == '\0');
}

/* Finds the rows of files under the scanned roots that no longer exist. */
static gs_status find_vanished(scan_ctx *c, gs_error *err)
{
    const gs_scan_options *o = c->opts;
    size_t cap = c->num_known ? c->num_known : 1;
    c->vanished = calloc(cap, sizeof *c->vanished);
    c->claimed = calloc(cap, 1);
    c->by_file = calloc(cap, sizeof *c->by_file);
    c->by_audio = calloc(cap, sizeof *c->by_audio);
    if (!c->vanished || !c->claimed || !c->by_file || !c->by_audio)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->num_known; i++) {
        const char *p = c->known[i].path;
        int under = 0;
        for (int r = 0; p && r < o->num_prune_roots && !under; r++)
            under = under_root(p, o->prune_roots[r]);
        if (!under || !gs_walk_path_vanished(p))
            continue;
        const gs_index_known *k = &c->known[i];
        c->by_file[c->num_vanished] = (vanished_key){(uint64_t)k->size, k->file_digest, i};
        c->vanished[c->num_vanished++] = i;
        if (k->audio_digest)
            c->by_audio[c->num_by_audio++] = (vanished_key){k->audio_digest, 0, i};
    }
    qsort(c->by_file, c->num_vanished, sizeof *c->by_file, compare_keys);
    qsort(c->by_audio, c->num_by_audio, sizeof *c->by_audio, compare_keys);
    return GS_OK;
}

/* The vanished row that a new file is, by its file digest (a plain move
 * or rename keeps every byte), or NULL. Claims it. */
static const gs_index_known *claim_by_file(scan_ctx *c, const gs_walk_entry *e)
{
    uint64_t d;
    if (!c->num_vanished || gs_file_digest(e->path, e->size, &d) != 0)
        return NULL;
    return claim(c, c->by_file, c->num_vanished, (uint64_t)e->size, d);
}

/* Removes the rows of vanished files that no file turned out to be (a dry
 * run only counts them). One transaction. */
static gs_status prune_missing(scan_ctx *c, gs_error *err)
{
    const gs_scan_options *o = c->opts;
    gs_status st = GS_OK;
    int in_tx = 0;
    for (size_t v = 0; v < c->num_vanished && st == GS_OK; v++) {
        if (c->claimed[c->vanished[v]])
            continue;
        const char *p = c->known[c->vanished[v]].path;
        if (!o->dry_run) {
            if (!in_tx && (st = gs_index_begin(c->ix, err)) != GS_OK)
                break;
            in_tx = 1;
            st = gs_index_remove(c->ix, p, err);
        }
        if (st == GS_OK) {
            c->stats->removed++;
            gs_scan_file_report r = {.path = p, .status = "removed", .confidence = -1, .tag = GS_TAG_OUTCOME_COUNT};
            gs_scan_report_file(o, &r);
        }
    }
    if (in_tx) {
        if (st == GS_OK)
            st = gs_index_commit(c->ix, err);
        else
            gs_index_rollback(c->ix);
    }
    return st;
}

/* Records the model's display names: also the scan's first write, so a
 * locked or full index is reported before any work is done. */
static gs_status record_genre_names(scan_ctx *c, gs_error *err)
{
    gs_status st = gs_index_begin(c->ix, err);
    for (int i = 0; st == GS_OK && i < gs_analyser_num_labels(c->an); i++) {
        char display[NAME_SIZE];
        gs_genre_display_name(gs_analyser_label(c->an, i), display, sizeof display);
        st = gs_index_put_genre(c->ix, gs_analyser_label(c->an, i), display, err);
    }
    if (st == GS_OK)
        return gs_index_commit(c->ix, err);
    gs_index_rollback(c->ix);
    return st;
}

/* Reports a file that needs no work (unchanged, or moved and recognised by
 * its bytes) with what the index holds for it. */
static void report_untouched(scan_ctx *c, const gs_walk_entry *e, const gs_index_known *k, const char *moved_from)
{
    if (moved_from)
        c->stats->moved++;
    else
        c->stats->unchanged++;
    c->done++;
    char display[NAME_SIZE];
    gs_scan_file_report r = {.path = e->path,
                             .status = moved_from ? "moved" : "unchanged",
                             .moved_from = moved_from,
                             .confidence = -1,
                             .tag = GS_TAG_OUTCOME_COUNT};
    if (k->top_genre) {
        gs_genre_display_name(k->top_genre, display, sizeof display);
        r.genre = display;
        r.label = k->top_genre; /* as analysed rows carry it */
        r.confidence = k->confidence;
    }
    gs_scan_report_file(c->opts, &r);
}

/* Decides each file's job: new, changed, moved (its row follows it, in one
 * transaction), re-tag only, or nothing (reported at once). c->todo gets
 * the files the workers must take. */
static gs_status plan_jobs(scan_ctx *c, gs_error *err)
{
    const gs_scan_options *opts = c->opts;
    const char *model_id = gs_analyser_model_id(c->an);
    gs_status st = GS_OK;
    int moving = 0; /* a transaction is open for the moves found by file digest */
    for (size_t i = 0; i < c->files->count && st == GS_OK; i++) {
        const gs_walk_entry *e = &c->files->entries[i];
        const gs_index_known *k = gs_index_known_find(c->known, c->num_known, e->path);
        const gs_index_known *moved = k ? NULL : claim_by_file(c, e);
        if (moved)
            k = moved;
        scan_job *job = &c->todo[c->num_todo];
        job->file = i;
        job->is_new = k == NULL;
        job->moved_from = moved ? moved->path : NULL;
        if (k && k->tag_genre && !(job->ours = strdup(k->tag_genre))) {
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
            break;
        }
        /* A moved file has the same bytes, whatever mtime a copy gave it. */
        int unchanged = !opts->force && k && !k->failed && k->size == e->size &&
            (moved || k->mtime_ns == e->mtime_ns) && k->model_id && !strcmp(k->model_id, model_id);
        int retag = 0;
        if (unchanged)
            st = plan_retag(c, k, &job->verdict, &retag, err); /* reads the row at its old path */
        if (st == GS_OK && moved && !opts->dry_run) {
            if (!moving && (st = gs_index_begin(c->ix, err)) == GS_OK)
                moving = 1;
            if (st == GS_OK)
                st = gs_index_move(c->ix, moved->path, e->path, e->mtime_ns, err);
        }
        if (st != GS_OK)
            break;
        if (unchanged && !retag) {
            gs_track_result_free_owned(&job->verdict);
            free(job->ours);
            job->ours = NULL;
            report_untouched(c, e, k, job->moved_from);
            continue;
        }
        job->retag = unchanged;
        c->num_todo++;
    }
    if (moving) {
        if (st == GS_OK)
            st = gs_index_commit(c->ix, err);
        else
            gs_index_rollback(c->ix);
    }
    return st;
}

/* Runs up to num_workers analysis threads over c->todo while this thread
 * writes their results (writer_loop), and joins them. */
static gs_status run_workers(scan_ctx *c, int num_workers, gs_error *err)
{
    int nw = (size_t)num_workers > c->num_todo ? (int)c->num_todo : num_workers;
    pthread_t *threads = calloc((size_t)(nw ? nw : 1), sizeof *threads);
    worker_arg *args = calloc((size_t)(nw ? nw : 1), sizeof *args);
    gs_status st = GS_OK;
    if (!threads || !args) {
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    } else {
        for (int i = 0; i < nw; i++) {
            args[i].c = c;
            args[i].w = gs_analyser_worker_new(c->an, err);
            if (!args[i].w) {
                st = err ? err->code : GS_ERR_INTERNAL;
                break;
            }
        }
    }
    if (st == GS_OK) {
        int started = 0;
        c->workers_left = nw;
        for (int i = 0; i < nw; i++) {
            if (pthread_create(&threads[i], NULL, worker_main, &args[i]) != 0) {
                pthread_mutex_lock(&c->lock);
                c->workers_left -= nw - i;
                pthread_mutex_unlock(&c->lock);
                break;
            }
            started++;
        }
        writer_loop(c);
        for (int i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
    }
    for (int i = 0; args && i < nw; i++)
        gs_analyser_worker_free(args[i].w);
    free(threads);
    free(args);
    return st;
}

gs_status gs_scan_run(gs_analyser *an, gs_index *ix, const gs_walk_list *files, const gs_scan_options *opts,
                      gs_scan_stats *stats, gs_error *err)
{
    memset(stats, 0, sizeof *stats);
    scan_ctx c = {.an = an, .ix = ix, .files = files, .opts = opts, .stats = stats};
    gs_error_clear(&c.fatal);
    c.t0 = now_seconds();
    stats->total = files->count;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.not_empty, NULL);
    atomic_init(&c.next, 0);
    atomic_init(&c.abort_run, 0);

    /* Loaded for rescans too: a re-analysed file still needs to know which
     * genre in it is ours. */
    gs_status st = gs_index_load_known(ix, &c.known, &c.num_known, err);
    if (st == GS_OK && !opts->dry_run)
        st = record_genre_names(&c, err);
    if (st == GS_OK && !(c.todo = calloc(files->count ? files->count : 1, sizeof *c.todo)))
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    c.todo_cap = files->count;
    if (st == GS_OK)
        st = find_vanished(&c, err);
    if (st == GS_OK)
        st = plan_jobs(&c, err);
    if (st != GS_OK && gs_error_is_index(st))
        stats->index_error = 1;
    if (st == GS_OK)
        st = run_workers(&c, opts->num_workers > 0 ? opts->num_workers : 1, err);
    free_jobs(&c);
    if (st == GS_OK && opts->stop && *opts->stop && !stats->index_error)
        stats->interrupted = 1;
    /* Vanished files are forgotten only once every new file had its chance
     * to turn out to be one of them, and never after an interruption. */
    if (st == GS_OK && !stats->index_error && !stats->interrupted) {
        st = prune_missing(&c, err);
        if (st != GS_OK && gs_error_is_index(st))
            stats->index_error = 1;
    }
    free_known(&c);
    pthread_mutex_destroy(&c.lock);
    pthread_cond_destroy(&c.not_empty);
    if (st != GS_OK)
        return st;
    if (stats->index_error) {
        if (err)
            *err = c.fatal;
        return c.fatal.code != GS_OK ? c.fatal.code : GS_ERR_IO;
    }
    gs_scan_report_progress(opts, c.done, stats->total, now_seconds() - c.t0, NULL);
    return GS_OK;
}
