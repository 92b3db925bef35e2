/* `genrescope classify FILE...`: the verdict for each file on stdout, one
 * clear line per failure on stderr. With --json, one JSON object per line
 * per file, so scripts can rely on it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "genrescope.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: genrescope classify [OPTIONS] FILE...\n\n"
            "Prints the most likely genres of each audio file (any format libsndfile or\n"
            "FFmpeg decodes: WAV, AIFF, FLAC, Ogg, Opus, MP3, M4A/AAC, ALAC...).\n\n"
            "options:\n"
            "  -m, --model FILE   model to use (default: the model built into genrescope)\n"
            "  -n, --top N        genres to show per file (default 3)\n"
            "  -w, --windows      also show the verdict of every 30 s window\n"
            "  -j, --json         one JSON object per line per file: path, genre,\n"
            "                     confidence, probabilities, duration, windows...\n"
            "  -h, --help         show this help\n\n"
            "exit status: 0 if every file was classified, 1 if any failed, 2 on bad usage.\n");
}

/* Label indices sorted by descending probability (insertion sort: n <= 64). */
static void rank_labels(const float *probs, int n, int *order)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && probs[order[j - 1]] < probs[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

/* Length of the valid UTF-8 sequence at s, or 0 if s does not start one
 * (bad lead byte, truncated, overlong, surrogate or beyond U+10FFFF). */
static int utf8_sequence_length(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (!len || s[0] > 0xF4)
        return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* A file name as a JSON string. Names need not be UTF-8; each byte that is
 * not part of valid UTF-8 is written as \udcXX, the convention Python's
 * os.fsencode() turns back into the original bytes, so the line stays valid
 * JSON and the name stays recoverable. */
static cJSON *path_json(const char *path)
{
    const unsigned char *s = (const unsigned char *)path;
    size_t n = strlen(path);
    char *out = malloc(n * 6 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        int len = utf8_sequence_length(s + i);
        if (len == 0) {
            o += sprintf(o, "\\udc%02x", s[i]);
            i++;
        } else if (s[i] == '"' || s[i] == '\\') {
            *o++ = '\\';
            *o++ = (char)s[i++];
        } else if (s[i] < 0x20) {
            o += sprintf(o, "\\u%04x", s[i]);
            i++;
        } else {
            memcpy(o, s + i, (size_t)len);
            o += len;
            i += (size_t)len;
        }
    }
    *o++ = '"';
    *o = '\0';
    cJSON *item = cJSON_CreateRaw(out);
    free(out);
    return item;
}

static cJSON *probabilities_json(const gs_model *model, const float *probs, int n)
{
    cJSON *obj = cJSON_CreateObject();
    for (int i = 0; obj && i < n; i++)
        cJSON_AddNumberToObject(obj, gs_model_label(model, i), (double)probs[i]);
    return obj;
}

static void print_json(const gs_model *model, const char *path, const gs_track_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "path", path_json(path));
    if (r->top_label >= 0)
        cJSON_AddStringToObject(o, "genre", gs_model_label(model, r->top_label));
    else
        cJSON_AddNullToObject(o, "genre");
    cJSON_AddNumberToObject(o, "confidence", (double)r->confidence);
    cJSON_AddItemToObject(o, "probabilities", probabilities_json(model, r->probabilities, r->num_labels));
    cJSON_AddNumberToObject(o, "duration", r->duration_seconds);
    cJSON_AddNumberToObject(o, "patches", r->num_patches);
    cJSON_AddNumberToObject(o, "silent_patches", r->num_silent_patches);
    cJSON_AddBoolToObject(o, "silent", r->top_label < 0);
    cJSON_AddBoolToObject(o, "padded", r->padded);
    cJSON_AddNumberToObject(o, "nonfinite_samples", (double)r->nonfinite_samples);
    cJSON *windows = cJSON_AddArrayToObject(o, "windows");
    for (int i = 0; i < r->num_windows; i++) {
        const gs_window_verdict *w = &r->windows[i];
        cJSON *wj = cJSON_CreateObject();
        cJSON_AddNumberToObject(wj, "start", w->start_seconds);
        cJSON_AddNumberToObject(wj, "end", w->end_seconds);
        if (w->top_label >= 0)
            cJSON_AddStringToObject(wj, "genre", gs_model_label(model, w->top_label));
        else
            cJSON_AddNullToObject(wj, "genre");
        cJSON_AddNumberToObject(wj, "confidence", (double)w->confidence);
        cJSON_AddItemToObject(wj, "probabilities", probabilities_json(model, w->probabilities, r->num_labels));
        cJSON_AddItemToArray(windows, wj);
    }
    cJSON_AddStringToObject(o, "model", gs_model_id(model));
    char *text = cJSON_PrintUnformatted(o);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(o);
}

static void print_ranked(const gs_model *model, const float *probs, int n, int top)
{
    int order[GS_MAX_LABELS];
    rank_labels(probs, n, order);
    for (int i = 0; i < top && i < n; i++)
        printf("%s%s %.1f%%", i ? ", " : "", gs_model_label(model, order[i]), 100.0 * probs[order[i]]);
}

static void print_text(const gs_model *model, const char *path, const gs_track_result *r, int top, int windows)
{
    printf("%s: ", path);
    if (r->top_label < 0)
        printf("silent (no genre)");
    else
        print_ranked(model, r->probabilities, r->num_labels, top);
    printf("  [%.1f s, %d patches%s]\n", r->duration_seconds, r->num_patches,
           r->padded ? ", shorter than one patch: padded by repeating it" : "");
    for (int i = 0; windows && i < r->num_windows; i++) {
        const gs_window_verdict *w = &r->windows[i];
        printf("  %7.1f-%7.1f s  ", w->start_seconds, w->end_seconds);
        if (w->top_label < 0)
            printf("silent");
        else
            print_ranked(model, w->probabilities, r->num_labels, top);
        putchar('\n');
    }
}

int gs_cmd_classify(int argc, char **argv)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'}, {"top", required_argument, NULL, 'n'},
        {"windows", no_argument, NULL, 'w'},     {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL;
    int top = 3, json = 0, windows = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:n:wjh", options, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > GS_MAX_LABELS) {
                fprintf(stderr, "genrescope classify: --top needs a number from 1 to %d\n", GS_MAX_LABELS);
                return 2;
            }
            top = (int)v;
            break;
        }
        case 'w': windows = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "genrescope classify: no input files\n");
        usage(stderr);
        return 2;
    }
    gs_error err;
    gs_model *model = model_path ? gs_model_load(model_path, &err) : gs_model_load_default(&err);
    if (!model) {
        fprintf(stderr, "genrescope classify: %s\n", err.message);
        return 1;
    }
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    if (!cls) {
        fprintf(stderr, "genrescope classify: %s\n", err.message);
        gs_model_free(model);
        return 1;
    }
    int failures = 0;
    for (int i = optind; i < argc; i++) {
        gs_track_result r;
        if (gs_classify_file(cls, argv[i], &r, &err) != GS_OK) {
            fprintf(stderr, "genrescope classify: %s\n", err.message);
            failures++;
            continue;
        }
        if (json)
            print_json(model, argv[i], &r);
        else
            print_text(model, argv[i], &r, top, windows);
        fflush(stdout);
        gs_track_result_free(&r);
    }
    gs_classifier_free(cls);
    gs_model_free(model);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("genrescope classify: writing the results");
        return 1;
    }
    return failures ? 1 : 0;
}
