/* Reading "key = value" files (kv_file.h). */
#include "kv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genrescope/text.h"

/* Splits one line in place; 0 and *key, *value (NULL key: nothing on the
 * line), or -1 with *why (NULL: no '=', so not the file's form at all). */
static int split(char *line, char **key, char **value, const char **why)
{
    char *s = gs_text_trim(line);
    *key = *value = NULL;
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        *why = NULL;
        return -1;
    }
    *eq = '\0';
    char *v = gs_text_trim(eq + 1);
    if (*v == '"') {
        char *close = strchr(v + 1, '"');
        char *rest = close ? gs_text_trim(close + 1) : NULL;
        if (!close || (*rest && *rest != '#')) {
            *why = "unbalanced quotes";
            return -1;
        }
        *close = '\0';
        v++;
    } else {
        char *hash = strchr(v, '#');
        if (hash) {
            *hash = '\0';
            v = gs_text_trim(v);
        }
    }
    *key = gs_text_trim(s);
    *value = v;
    return 0;
}

gs_status gs_kv_read(const char *path, int must_exist, const char *form, gs_kv_fn each, void *arg, gs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (!must_exist && errno == ENOENT)
            return GS_OK;
        return gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return gs_error_set(err, GS_ERR_IO, "%s: not a regular file", path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    char *line = NULL;
    size_t cap = 0;
    gs_status st = GS_OK;
    for (int lineno = 1; st == GS_OK && getline(&line, &cap, f) >= 0; lineno++) {
        char *key, *value;
        const char *why;
        if (split(line, &key, &value, &why) != 0)
            st = why ? gs_error_set(err, GS_ERR_FORMAT, "%s:%d: %s", path, lineno, why)
                     : gs_error_set(err, GS_ERR_FORMAT, "%s:%d: expected '%s'", path, lineno, form);
        else if (key)
            st = each(key, value, lineno, arg, err);
    }
    if (st == GS_OK && ferror(f))
        st = gs_error_set(err, GS_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    free(line);
    fclose(f);
    return st;
}
