/* The write-path rules of genrescope/outfile.h. Everything here runs as root
 * in tests and CI, so each step re-checks what it is about to touch instead
 * of trusting an earlier look. */
#include "genrescope/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_SYMLINK_HOPS = 40 };

const char *gs_file_kind_name(unsigned int st_mode)
{
    switch (st_mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    }
    return "not a regular file";
}

/* Splits path into its directory part (into dir, "." when there is none)
 * and returns a pointer to its last component inside path. */
static const char *split_dir(const char *path, char *dir, size_t dir_size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dir_size, ".");
        return path;
    }
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= dir_size)
        len = dir_size - 1;
    memcpy(dir, path, len);
    dir[len] = '\0';
    return slash + 1;
}

gs_status gs_output_resolve(const char *path, char *resolved, size_t resolved_size, int *exists, gs_error *err)
{
    if (exists)
        *exists = 0;
    if (!path || !path[0] || !resolved || resolved_size == 0)
        return gs_error_set(err, GS_ERR_INVALID, "empty output path");
    size_t plen = strlen(path);
    if (plen >= PATH_MAX || path[plen - 1] == '/')
        return gs_error_set(err, GS_ERR_INVALID, "%s: not a file name", path);
    char cur[PATH_MAX];
    memcpy(cur, path, plen + 1);
    int found = 0;
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0) {
            if (errno != ENOENT)
                return gs_error_set_errno(err, errno, "%s", cur);
            break; /* a new file (or the missing target of a symlink) */
        }
        if (S_ISREG(st.st_mode)) {
            found = 1;
            break;
        }
        if (!S_ISLNK(st.st_mode)) {
            return gs_error_set(err, GS_ERR_IO, "%s%s%s is %s, not a regular file: refusing to write there", path,
                                strcmp(cur, path) ? " -> " : "", strcmp(cur, path) ? cur : "",
                                gs_file_kind_name(st.st_mode));
        }
        if (hops >= MAX_SYMLINK_HOPS)
            return gs_error_set_errno(err, ELOOP, "%s", path);
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0)
            return gs_error_set_errno(err, errno, "%s", cur);
        link[n] = '\0';
        if (link[0] == '/' || !strchr(cur, '/')) {
            if ((size_t)n >= sizeof cur)
                return gs_error_set(err, GS_ERR_INVALID, "%s: path too long", path);
            memcpy(cur, link, (size_t)n + 1);
        } else {
            char dir[PATH_MAX];
            split_dir(cur, dir, sizeof dir);
            char next[PATH_MAX];
            if (snprintf(next, sizeof next, "%s/%s", dir, link) >= (int)sizeof next)
                return gs_error_set(err, GS_ERR_INVALID, "%s: path too long", path);
            memcpy(cur, next, strlen(next) + 1);
        }
        if (!cur[0] || cur[strlen(cur) - 1] == '/')
            return gs_error_set(err, GS_ERR_IO, "%s: symlink to %s, which is not a file name", path, cur);
    }
    /* The directory made canonical: the temporary file and the rename
     * then happen in the one directory the file really lives in. */
    char dir[PATH_MAX], real_dir[PATH_MAX];
    const char *base = split_dir(cur, dir, sizeof dir);
    if (!strcmp(base, ".") || !strcmp(base, ".."))
        return gs_error_set(err, GS_ERR_IO, "%s: not a file name", path);
    if (!realpath(dir, real_dir))
        return gs_error_set_errno(err, errno, "%s: folder %s", path, dir);
    struct stat ds;
    if (stat(real_dir, &ds) != 0 || !S_ISDIR(ds.st_mode))
        return gs_error_set(err, GS_ERR_IO, "%s: %s is not a folder", path, dir);
    int w = snprintf(resolved, resolved_size, "%s%s%s", real_dir, strcmp(real_dir, "/") ? "/" : "", base);
    if (w < 0 || (size_t)w >= resolved_size)
        return gs_error_set(err, GS_ERR_INVALID, "%s: path too long", path);
    if (exists)
        *exists = found;
    return GS_OK;
}

/* Writes "<dir>/<prefix><16 random hex><suffix>" into out. 0, or -1 with
 * *err set. */
static int random_name(const char *dir, const char *target, const char *prefix, const char *suffix, char *out,
                       size_t size, gs_error *err)
{
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        gs_error_set_errno(err, errno, "temporary file next to %s: no random bytes", target);
        return -1;
    }
    prefix = prefix ? prefix : ".gs-";
    suffix = suffix ? suffix : ".tmp";
    /* A name may have NAME_MAX bytes: a long target's suffix keeps its
     * tail (the extension, by which TagLib knows the format), starting on a
     * whole UTF-8 character. */
    size_t fixed = strlen(prefix) + 16, len = strlen(suffix);
    if (fixed < NAME_MAX && len > NAME_MAX - fixed) {
        suffix += len - (NAME_MAX - fixed);
        while ((*suffix & 0xc0) == 0x80)
            suffix++;
    }
    int w = snprintf(out, size, "%s/%s%016llx%s", dir, prefix, r, suffix);
    if (w < 0 || (size_t)w >= size) {
        gs_error_set(err, GS_ERR_INVALID, "temporary file next to %s: path too long", target);
        return -1;
    }
    return 0;
}

/* An unnamed file, locked, then linked under a fresh name: nobody ever sees
 * the name without the lock. -1 with errno when the file system cannot
 * (no O_TMPFILE, no /proc): the caller falls back. */
static int create_locked_unnamed(const char *dir, const char *target, const char *prefix, const char *suffix,
                                 unsigned int mode, char *tmp_path, size_t tmp_size, gs_error *err)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)(mode & 0777));
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    for (int attempt = 0; attempt < 16; attempt++) {
        if (random_name(dir, target, prefix, suffix, tmp_path, tmp_size, err) != 0) {
            close(fd);
            return -2; /* not a fallback case: *err says why */
        }
        if (linkat(AT_FDCWD, self, AT_FDCWD, tmp_path, AT_SYMLINK_FOLLOW) == 0)
            return fd;
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int gs_temp_create_near(const char *target, const char *prefix, const char *suffix, unsigned int mode, int lock,
                        char *tmp_path, size_t tmp_size, gs_error *err)
{
    if (!target || !target[0] || !tmp_path || tmp_size == 0) {
        gs_error_set(err, GS_ERR_INVALID, "temporary file: no target");
        return -1;
    }
    char dir[PATH_MAX];
    split_dir(target, dir, sizeof dir);
    if (lock) {
        int fd = create_locked_unnamed(dir, target, prefix, suffix, mode, tmp_path, tmp_size, err);
        if (fd >= 0 || fd == -2)
            return fd >= 0 ? fd : -1;
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        if (random_name(dir, target, prefix, suffix, tmp_path, tmp_size, err) != 0)
            return -1;
        int fd = open(tmp_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)(mode & 0777));
        if (fd >= 0) {
            if (lock && flock(fd, LOCK_EX) != 0) {
                gs_error_set_errno(err, errno, "cannot lock %s", tmp_path);
                close(fd);
                unlink(tmp_path);
                return -1;
            }
            return fd;
        }
        if (errno != EEXIST) {
            gs_error_set_errno(err, errno, "cannot create a temporary file in %s", dir);
            return -1;
        }
    }
    gs_error_set(err, GS_ERR_IO, "cannot create a temporary file in %s: every name taken", dir);
    return -1;
}

static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    split_dir(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: the rename itself already happened */
        close(fd);
    }
}

/* must_be_new: the target was absent when the write began, so whatever is
 * there now (even a regular file) belongs to someone else. */
static gs_status rename_into_place(const char *tmp_path, const char *target, int must_be_new, gs_error *err)
{
    struct stat st;
    int there = lstat(target, &st) == 0;
    if (!there && errno != ENOENT)
        return gs_error_set_errno(err, errno, "%s", target);
    if (there && must_be_new)
        return gs_error_set(err, GS_ERR_IO, "%s appeared while we wrote: not replaced", target);
    if (there && !S_ISREG(st.st_mode))
        return gs_error_set(err, GS_ERR_IO, "%s became %s while we wrote: not replaced", target,
                            gs_file_kind_name(st.st_mode));
    if (there) {
        if (rename(tmp_path, target) != 0)
            return gs_error_set_errno(err, errno, "cannot replace %s", target);
    } else if (renameat2(AT_FDCWD, tmp_path, AT_FDCWD, target, RENAME_NOREPLACE) != 0) {
        int e = errno;
        if (e == EEXIST)
            return gs_error_set(err, GS_ERR_IO, "%s appeared while we wrote: not replaced", target);
        /* File systems without RENAME_NOREPLACE: link() is exclusive too. */
        if (e != EINVAL && e != ENOSYS)
            return gs_error_set_errno(err, e, "cannot create %s", target);
        if (link(tmp_path, target) != 0)
            return gs_error_set_errno(err, errno, "cannot create %s", target);
        unlink(tmp_path);
    }
    sync_dir_of(target);
    return GS_OK;
}

gs_status gs_rename_onto_regular(const char *tmp_path, const char *target, gs_error *err)
{
    return rename_into_place(tmp_path, target, 0, err);
}

FILE *gs_output_open_in_place(const char *path, int append, gs_error *err)
{
    char target[PATH_MAX];
    if (gs_output_resolve(path, target, sizeof target, NULL, err) != GS_OK)
        return NULL;
    int fd = open(target, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (append ? O_APPEND : 0), 0666);
    if (fd < 0) {
        gs_error_set_errno(err, errno, "cannot write %s", path);
        return NULL;
    }
    struct stat st = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gs_error_set(err, GS_ERR_IO, "%s is %s, not a regular file: refusing to write there", path,
                     gs_file_kind_name(st.st_mode));
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || (!append && ftruncate(fd, 0) != 0)) {
        gs_error_set_errno(err, errno, "cannot write %s", path);
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, append ? "a" : "w");
    if (!f) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        close(fd);
    }
    return f;
}

struct gs_outfile {
    int fd;
    int is_stdout;
    int target_exists;
    FILE *stream;
    char target[PATH_MAX];
    char tmp[PATH_MAX + 64];
};

gs_outfile *gs_outfile_open(const char *path, int flags, gs_error *err)
{
    gs_outfile *f = calloc(1, sizeof *f);
    if (!f) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->fd = -1;
    if ((flags & GS_OUTFILE_ALLOW_STDOUT) && path && !strcmp(path, "-")) {
        f->is_stdout = 1;
        f->fd = STDOUT_FILENO;
        snprintf(f->target, sizeof f->target, "-");
        return f;
    }
    if (gs_output_resolve(path, f->target, sizeof f->target, &f->target_exists, err) != GS_OK) {
        free(f);
        return NULL;
    }
    /* A new file gets 0666 minus the umask from open() itself. */
    f->fd = gs_temp_create_near(f->target, ".gs-", ".tmp", 0666, 0, f->tmp, sizeof f->tmp, err);
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    /* The replacement looks like what it replaces. */
    struct stat st;
    if (f->target_exists && stat(f->target, &st) == 0 && S_ISREG(st.st_mode)) {
        if (fchmod(f->fd, st.st_mode & 07777) != 0) {
            gs_error_set_errno(err, errno, "%s", f->tmp);
            gs_outfile_discard(f);
            return NULL;
        }
        if (geteuid() == 0 && fchown(f->fd, st.st_uid, st.st_gid) != 0) {
            /* keeping root as the owner is better than failing the write */
        }
    }
    return f;
}

int gs_outfile_fd(const gs_outfile *f)
{
    return f ? f->fd : -1;
}

FILE *gs_outfile_stream(gs_outfile *f)
{
    if (!f)
        return NULL;
    if (f->is_stdout)
        return stdout;
    if (!f->stream)
        f->stream = fdopen(f->fd, "w");
    return f->stream;
}

const char *gs_outfile_target(const gs_outfile *f)
{
    return f ? f->target : "";
}

gs_status gs_outfile_commit(gs_outfile *f, gs_error *err)
{
    if (!f)
        return gs_error_set(err, GS_ERR_INVALID, "no output file");
    if (f->is_stdout) {
        int ok = fflush(stdout) == 0;
        int e = errno;
        free(f);
        return ok ? GS_OK : gs_error_set_errno(err, e, "standard output");
    }
    int ok = 1, e = 0;
    if (f->stream) {
        if (fflush(f->stream) != 0 || ferror(f->stream)) {
            ok = 0;
            e = errno ? errno : EIO;
        }
    }
    if (ok && fsync(f->fd) != 0) {
        ok = 0;
        e = errno;
    }
    int closed = f->stream ? fclose(f->stream) : close(f->fd);
    f->stream = NULL;
    f->fd = -1;
    if (ok && closed != 0) {
        ok = 0;
        e = errno;
    }
    gs_status st = GS_OK;
    if (!ok)
        st = gs_error_set_errno(err, e, "cannot write %s", f->target);
    else
        st = rename_into_place(f->tmp, f->target, !f->target_exists, err);
    if (st != GS_OK)
        unlink(f->tmp);
    free(f);
    return st;
}

void gs_outfile_discard(gs_outfile *f)
{
    if (!f)
        return;
    if (!f->is_stdout) {
        if (f->stream)
            fclose(f->stream);
        else if (f->fd >= 0)
            close(f->fd);
        unlink(f->tmp);
    }
    free(f);
}
