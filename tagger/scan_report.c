/* What a scan prints: per-file lines (text or JSON), progress, the
 * summary (scan.h). */
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_common.h"
#include "scan.h"

void gs_scan_report_file(const gs_scan_options *o, const gs_scan_file_report *r)
{
    if (o->report == GS_REPORT_JSON) {
        cJSON *j = cJSON_CreateObject();
        if (!j)
            return;
        gs_cli_add_path(j, "path", r->path);
        cJSON_AddStringToObject(j, "status", r->status);
        if (r->moved_from)
            gs_cli_add_path(j, "moved_from", r->moved_from);
        if (r->genre) {
            cJSON_AddStringToObject(j, "genre", r->genre);
            if (r->label)
                cJSON_AddStringToObject(j, "label", r->label);
            cJSON_AddNumberToObject(j, "confidence", (double)r->confidence);
        }
        /* Why there is no genre, when there is none. */
        if (r->verdict && strcmp(r->verdict, "genre") != 0) {
            cJSON_AddStringToObject(j, "verdict", r->verdict);
            if (!strcmp(r->verdict, "not-music"))
                cJSON_AddNumberToObject(j, "not_music", (double)r->not_music);
        }
        if (r->tag != GS_TAG_OUTCOME_COUNT)
            cJSON_AddStringToObject(j, "tag", gs_tag_outcome_name(r->tag));
        if (r->tag_detail)
            cJSON_AddStringToObject(j, "tag_detail", r->tag_detail);
        if (r->error)
            cJSON_AddStringToObject(j, "error", gs_cli_error_reason(r->path, r->error));
        gs_cli_print_json(o->out, j);
        return;
    }
    /* Failures and files we deliberately left alone are worth a line even
     * with a progress bar, and with --quiet too (quiet means no progress
     * and no summary, never silent errors); successes only show in the
     * summary. */
    const char *why = NULL;
    const int would_write = r->tag == GS_TAG_WOULD_WRITE;
    if (r->error)
        why = r->error;
    else if (r->tag == GS_TAG_READ_ONLY || r->tag == GS_TAG_UNSUPPORTED || r->tag == GS_TAG_FAILED ||
             r->tag == GS_TAG_HARDLINKED)
        why = r->tag_detail ? r->tag_detail : gs_tag_outcome_name(r->tag);
    if (o->progress_tty && o->report != GS_REPORT_QUIET && (why || would_write))
        fprintf(o->progress, "\r\033[K");
    /* Core's decoder messages already name the file. */
    if (why && strstr(why, r->path))
        fprintf(o->progress, "%s: %s\n", r->error ? "failed" : "not tagged", why);
    else if (why)
        fprintf(o->progress, "%s: %s: %s\n", r->error ? "failed" : "not tagged", r->path, why);
    else if (would_write && r->genre && o->report != GS_REPORT_QUIET)
        fprintf(o->out, "would tag %s: %s (%.2f)\n", r->path, r->genre, (double)r->confidence);
}

static void fmt_duration(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, n, "%lds", t);
}

void gs_scan_report_progress(const gs_scan_options *o, size_t done, size_t total, double elapsed, const char *current)
{
    if (o->report != GS_REPORT_PROGRESS || !o->progress_tty)
        return;
    static double last;
    if (current && elapsed - last < 0.1 && done < total)
        return;
    last = elapsed;
    if (!current) {
        fprintf(o->progress, "\r\033[K");
        fflush(o->progress);
        return;
    }
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char eta[32] = "?";
    if (rate > 0)
        fmt_duration((double)(total - done) / rate, eta, sizeof eta);
    const char *base = strrchr(current, '/');
    base = base ? base + 1 : current;
    fprintf(o->progress, "\r\033[K[%zu/%zu] %.1f files/s, ETA %s  %.40s", done, total, rate, eta, base);
    fflush(o->progress);
}

static const char *files(size_t n)
{
    return n == 1 ? "file" : "files";
}

void gs_scan_report_summary(const gs_scan_options *o, const gs_scan_stats *s, double elapsed)
{
    if (o->report == GS_REPORT_JSON) {
        cJSON *j = cJSON_CreateObject();
        if (!j)
            return;
        cJSON *sum = cJSON_AddObjectToObject(j, "summary");
        cJSON_AddNumberToObject(sum, "files", (double)s->total);
        cJSON_AddNumberToObject(sum, "analysed", (double)s->analysed);
        cJSON_AddNumberToObject(sum, "unchanged", (double)s->unchanged);
        cJSON_AddNumberToObject(sum, "tagged", (double)s->tagged);
        cJSON_AddNumberToObject(sum, "already_tagged", (double)s->already_tagged);
        cJSON_AddNumberToObject(sum, "kept_existing", (double)s->kept);
        cJSON_AddNumberToObject(sum, "not_tagged", (double)s->not_tagged);
        cJSON_AddNumberToObject(sum, "hard_linked", (double)s->hard_linked);
        cJSON_AddNumberToObject(sum, "low_confidence", (double)s->low_confidence);
        cJSON_AddNumberToObject(sum, "retagged", (double)s->retagged);
        cJSON_AddNumberToObject(sum, "tag_failed", (double)s->tag_failed);
        cJSON_AddNumberToObject(sum, "silent", (double)s->silent);
        cJSON_AddNumberToObject(sum, "not_music", (double)s->not_music);
        cJSON_AddNumberToObject(sum, "removed", (double)s->removed);
        cJSON_AddNumberToObject(sum, "moved", (double)s->moved);
        cJSON_AddNumberToObject(sum, "failed", (double)s->failed);
        cJSON *by = cJSON_AddObjectToObject(sum, "failed_by_reason");
        for (int i = 0; i < GS_FAIL_COUNT; i++)
            if (s->failed_by[i])
                cJSON_AddNumberToObject(by, gs_scan_fail_name(i), (double)s->failed_by[i]);
        cJSON_AddNumberToObject(sum, "not_saved", (double)s->lost);
        cJSON_AddBoolToObject(sum, "interrupted", s->interrupted);
        cJSON_AddBoolToObject(sum, "dry_run", o->dry_run);
        cJSON_AddNumberToObject(sum, "seconds", elapsed);
        gs_cli_print_json(o->out, j);
        return;
    }
    if (o->report == GS_REPORT_QUIET)
        return;
    FILE *f = o->out;
    fprintf(f, "%s%zu %s in %.1f s: %zu analysed, %zu unchanged since the last scan\n",
            o->dry_run ? "dry run (nothing changed): " : "", s->total, files(s->total), elapsed, s->analysed,
            s->unchanged);
    fprintf(f,
            "  tags: %zu %s, %zu already tagged, %zu kept (existing genre), %zu not taggable,"
            " %zu failed\n",
            s->tagged, o->dry_run ? "would be written" : "written", s->already_tagged, s->kept, s->not_tagged,
            s->tag_failed);
    if (s->hard_linked || s->low_confidence)
        fprintf(f,
                "  also: %zu hard-linked (not tagged; --break-hardlinks), %zu low confidence"
                " (not tagged; --min-confidence)\n",
                s->hard_linked, s->low_confidence);
    if (s->retagged)
        fprintf(f, "  %zu of the tags %s unchanged %s, from the index (not analysed again)\n", s->retagged,
                o->dry_run ? "would go to" : "went to", files(s->retagged));
    if (s->moved)
        fprintf(f, "  %zu moved or renamed %s (the same track: history and tag ownership kept)\n", s->moved,
                files(s->moved));
    if (s->silent)
        fprintf(f, "  %zu silent (indexed without a genre)\n", s->silent);
    if (s->not_music)
        fprintf(f, "  %zu not music (noise, tones, speech...: indexed without a genre)\n", s->not_music);
    if (s->removed)
        fprintf(f, "  %zu index %s that no longer %s %s\n", s->removed,
                s->removed == 1 ? "entry of a file" : "entries of files", s->removed == 1 ? "exists" : "exist",
                o->dry_run ? "would be removed" : "removed");
    if (s->failed) {
        fprintf(f, "  failed: %zu (", s->failed);
        int first = 1;
        for (int i = 0; i < GS_FAIL_COUNT; i++)
            if (s->failed_by[i]) {
                fprintf(f, "%s%zu %s", first ? "" : ", ", s->failed_by[i], gs_scan_fail_name(i));
                first = 0;
            }
        fprintf(f, "); they are retried on the next scan\n");
    }
    if (s->lost)
        fprintf(f, "  %zu analysed %s not saved to the index (rescanned next time)\n", s->lost,
                s->lost == 1 ? "file was" : "files were");
    if (s->interrupted && o->force)
        fprintf(f, "  interrupted: files not reached keep their previous analysis\n");
    else if (s->interrupted)
        fprintf(f, "  interrupted: the next scan resumes where this one stopped\n");
}
