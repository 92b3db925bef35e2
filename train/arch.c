/* The trainer's network designs (arch.h): writes the built-in short-chunk
 * CNN as architecture JSON and fits a user's --arch file to the data (input
 * shape from the front-end, outputs from the labels); the core's schema
 * parser checks the result when the net is built. */
#include "arch.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *gs_arch_shortchunk(const gs_frontend_params *p, int num_labels, int width, float dropout)
{
    int widths[5] = {width, 2 * width, 4 * width, 4 * width, 8 * width};
    size_t cap = 8192, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    n += (size_t)snprintf(s + n, cap - n, "{\"input\":[1,%d,%d],\"layers\":[", p->n_mels, p->patch_frames);
    int in = 1;
    for (int b = 0; b < 5; b++) {
        n += (size_t)snprintf(s + n, cap - n,
                              "%s{\"op\":\"conv2d\",\"name\":\"conv%d\",\"in\":%d,\"out\":%d,\"kernel\":[3,3],"
                              "\"stride\":[1,1],\"padding\":[1,1],\"bias\":false},"
                              "{\"op\":\"batchnorm2d\",\"name\":\"bn%d\",\"eps\":1e-5},{\"op\":\"relu\"},",
                              b ? "" : "", b + 1, in, widths[b], b + 1);
        if (b < 4)
            n += (size_t)snprintf(s + n, cap - n, "{\"op\":\"maxpool2d\",\"kernel\":[2,2],\"stride\":[2,2]},");
        in = widths[b];
    }
    n += (size_t)snprintf(s + n, cap - n,
                          "{\"op\":\"global_maxpool\"},{\"op\":\"dropout\",\"p\":%g},"
                          "{\"op\":\"dense\",\"name\":\"fc\",\"in\":%d,\"out\":%d},{\"op\":\"softmax\"}]}",
                          (double)dropout, in, num_labels);
    if (n >= cap) {
        free(s);
        return NULL;
    }
    return s;
}

char *gs_arch_load_adapted(const char *path, const gs_frontend_params *p, int num_labels, gs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char buf[4096];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                gs_error_set(err, GS_ERR_NOMEM, "out of memory");
                return NULL;
            }
            text = t;
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    if (!text) {
        gs_error_set(err, GS_ERR_FORMAT, "%s is empty", path);
        return NULL;
    }
    text[len] = '\0';
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *layers = cJSON_GetObjectItem(j, "layers");
    if (!j || !cJSON_IsArray(layers)) {
        cJSON_Delete(j);
        gs_error_set(err, GS_ERR_FORMAT, "%s: not an architecture ({\"input\":[C,H,W],\"layers\":[...]})", path);
        return NULL;
    }
    int shape[3] = {1, p->n_mels, p->patch_frames};
    cJSON_DeleteItemFromObject(j, "input");
    cJSON_AddItemToObject(j, "input", cJSON_CreateIntArray(shape, 3));
    cJSON *last_dense = NULL, *layer;
    cJSON_ArrayForEach(layer, layers)
    {
        cJSON *op = cJSON_GetObjectItem(layer, "op");
        if (cJSON_IsString(op) && !strcmp(op->valuestring, "dense"))
            last_dense = layer;
    }
    if (!last_dense) {
        cJSON_Delete(j);
        gs_error_set(err, GS_ERR_FORMAT, "%s: no dense layer to size for %d labels", path, num_labels);
        return NULL;
    }
    cJSON_DeleteItemFromObject(last_dense, "out");
    cJSON_AddNumberToObject(last_dense, "out", num_labels);
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!out)
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    return out;
}
