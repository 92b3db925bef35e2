/* The write-path rules (genrescope/outfile.h), as root: new and replaced
 * files, symlinks written through, devices, FIFOs and directories refused
 * (and /dev/null still a character device afterwards), nothing left behind
 * on failure, targets that change while we write. Everything happens in a
 * directory this test creates with mkdtemp. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "genrescope/outfile.h"
#include "support/tmpdir.h"

static char root[512];

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root, name);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int has_text(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return !strcmp(buf, text);
}

/* Names in root other than the ones the test made: temporary files left
 * behind. */
static int stray_temp_files(void)
{
    DIR *d = opendir(root);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, ".gs-", 4))
            n++;
    if (d)
        closedir(d);
    return n;
}

static gs_status write_via_outfile(const char *path, const char *text, gs_error *err)
{
    gs_outfile *o = gs_outfile_open(path, GS_OUTFILE_ALLOW_STDOUT, err);
    if (!o)
        return err->code;
    FILE *f = gs_outfile_stream(o);
    if (!f || fputs(text, f) < 0) {
        gs_outfile_discard(o);
        return GS_ERR_IO;
    }
    return gs_outfile_commit(o, err);
}

static void test_new_and_replaced(void)
{
    char p[600];
    gs_error err;
    path_in(p, sizeof p, "new.txt");
    mode_t mask = umask(022);
    CHECK(write_via_outfile(p, "one", &err) == GS_OK);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644);
    CHECK(has_text(p, "one"));

    /* A replaced file keeps its permission bits. */
    CHECK(chmod(p, 0640) == 0);
    CHECK(write_via_outfile(p, "two", &err) == GS_OK);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640);
    CHECK(has_text(p, "two"));
    CHECK(stray_temp_files() == 0);
    umask(mask);

    /* Discarded: the old content stays, no temporary file. */
    gs_outfile *o = gs_outfile_open(p, 0, &err);
    CHECK(o != NULL);
    if (o) {
        fputs("three", gs_outfile_stream(o));
        gs_outfile_discard(o);
    }
    CHECK(has_text(p, "two"));
    CHECK(stray_temp_files() == 0);
}

static void test_symlinks_written_through(void)
{
    char target[600], link1[600], link2[600], dangling[600], missing[600];
    gs_error err;
    path_in(target, sizeof target, "target.txt");
    path_in(link1, sizeof link1, "link1");
    path_in(link2, sizeof link2, "link2");
    CHECK(write_text(target, "old") == 0);
    CHECK(symlink("target.txt", link1) == 0); /* relative */
    CHECK(symlink(link1, link2) == 0);        /* absolute, a chain */
    CHECK(write_via_outfile(link2, "new", &err) == GS_OK);
    struct stat st;
    CHECK(lstat(link1, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lstat(link2, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(has_text(target, "new"));

    /* A dangling link names the file to create. */
    path_in(dangling, sizeof dangling, "dangling");
    path_in(missing, sizeof missing, "created-through-link.txt");
    CHECK(symlink("created-through-link.txt", dangling) == 0);
    CHECK(write_via_outfile(dangling, "made", &err) == GS_OK);
    CHECK(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(has_text(missing, "made"));

    char resolved[4096];
    int exists = -1;
    CHECK(gs_output_resolve(link2, resolved, sizeof resolved, &exists, &err) == GS_OK);
    CHECK(exists == 1);
    char real_target[4096];
    CHECK(realpath(target, real_target) && !strcmp(resolved, real_target));

    /* A loop is an error, not a hang. */
    char loop_a[600], loop_b[600];
    path_in(loop_a, sizeof loop_a, "loop_a");
    path_in(loop_b, sizeof loop_b, "loop_b");
    CHECK(symlink("loop_b", loop_a) == 0 && symlink("loop_a", loop_b) == 0);
    CHECK(write_via_outfile(loop_a, "x", &err) == GS_ERR_IO);
    CHECK(stray_temp_files() == 0);
}

static void test_refused(void)
{
    gs_error err;
    struct stat st;
    /* The device the README's benchmark once turned into a file. */
    CHECK(write_via_outfile("/dev/null", "x", &err) == GS_ERR_IO);
    CHECK_MSG(strstr(err.message, "character device") != NULL, "%s", err.message);
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(gs_output_open_in_place("/dev/null", 1, &err) == NULL);
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));

    /* Through a symlink too, and the link stays. */
    char link[600];
    path_in(link, sizeof link, "to-null");
    CHECK(symlink("/dev/null", link) == 0);
    CHECK(write_via_outfile(link, "x", &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "to-null -> /dev/null") != NULL);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));

    /* A FIFO: refused at once (opening it would block). */
    char fifo[600];
    path_in(fifo, sizeof fifo, "fifo");
    CHECK(mkfifo(fifo, 0644) == 0);
    CHECK(write_via_outfile(fifo, "x", &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "FIFO") != NULL);
    CHECK(gs_output_open_in_place(fifo, 0, &err) == NULL);
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));

    /* A directory, and a missing folder. */
    CHECK(write_via_outfile(root, "x", &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "a directory") != NULL);
    char missing[600];
    path_in(missing, sizeof missing, "no-such-folder/file.txt");
    CHECK(write_via_outfile(missing, "x", &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "No such file or directory") != NULL);
    CHECK(write_via_outfile("", "x", &err) == GS_ERR_INVALID);
    CHECK(stray_temp_files() == 0);
}

static void test_target_changes_while_writing(void)
{
    char p[600];
    gs_error err;
    path_in(p, sizeof p, "changes.txt");
    /* Absent at open, a directory at commit: not replaced, temp removed. */
    gs_outfile *o = gs_outfile_open(p, 0, &err);
    CHECK(o != NULL);
    CHECK(mkdir(p, 0755) == 0);
    if (o) {
        fputs("x", gs_outfile_stream(o));
        CHECK(gs_outfile_commit(o, &err) == GS_ERR_IO);
    }
    struct stat st;
    CHECK(lstat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(rmdir(p) == 0);

    /* Absent at open, a regular file made by someone else at commit: theirs
     * is kept (RENAME_NOREPLACE). */
    o = gs_outfile_open(p, 0, &err);
    CHECK(o != NULL);
    CHECK(write_text(p, "theirs") == 0);
    if (o) {
        fputs("ours", gs_outfile_stream(o));
        CHECK(gs_outfile_commit(o, &err) == GS_ERR_IO);
        CHECK(strstr(err.message, "appeared") != NULL);
    }
    CHECK(has_text(p, "theirs"));

    /* Regular at open, replaced by a symlink to /dev/null before commit:
     * neither the link nor the device is touched. */
    o = gs_outfile_open(p, 0, &err);
    CHECK(o != NULL);
    CHECK(unlink(p) == 0 && symlink("/dev/null", p) == 0);
    if (o) {
        fputs("ours", gs_outfile_stream(o));
        CHECK(gs_outfile_commit(o, &err) == GS_ERR_IO);
    }
    CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(stray_temp_files() == 0);
}

static void test_temp_names(void)
{
    char target[600], a[700], b[700];
    gs_error err;
    path_in(target, sizeof target, "song.flac");
    int fa = gs_temp_create_near(target, ".gs-tmp-", "-song.flac", 0600, 1, a, sizeof a, &err);
    int fb = gs_temp_create_near(target, ".gs-tmp-", "-song.flac", 0600, 0, b, sizeof b, &err);
    CHECK(fa >= 0 && fb >= 0);
    CHECK(strcmp(a, b) != 0); /* unpredictable, so different */
    CHECK(!strncmp(a, root, strlen(root)));
    size_t la = strlen(a);
    CHECK(la > 10 && !strcmp(a + la - 10, "-song.flac"));
    struct stat st;
    CHECK(fstat(fa, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_nlink == 1);
    CHECK(stat(a, &st) == 0 && S_ISREG(st.st_mode));
    /* Locked: another open file description cannot take the lock. */
    int other = open(a, O_RDONLY);
    CHECK(other >= 0 && flock(other, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
    close(fa);
    CHECK(other >= 0 && flock(other, LOCK_EX | LOCK_NB) == 0); /* the writer is gone */
    if (other >= 0)
        close(other);
    close(fb);
    unlink(a);
    unlink(b);
}

/* A target whose name is near NAME_MAX still gets a temporary file: the
 * suffix keeps its tail (the extension), cut on a UTF-8 boundary. */
static void test_long_temp_names(void)
{
    char name[256], suffix[300], target[900], tmp[1200];
    /* 250 bytes: 2-byte characters, then ".flac" */
    size_t n = 0;
    while (n + 2 <= 245) {
        name[n++] = (char)0xc3;
        name[n++] = (char)0xa9; /* e acute */
    }
    memcpy(name + n, ".flac", 6);
    snprintf(suffix, sizeof suffix, "-%s", name);
    path_in(target, sizeof target, name);
    gs_error err;
    int fd = gs_temp_create_near(target, ".gs-tmp-", suffix, 0600, 1, tmp, sizeof tmp, &err);
    CHECK_MSG(fd >= 0, "%s", err.message);
    if (fd < 0)
        return;
    const char *base = strrchr(tmp, '/') + 1;
    size_t len = strlen(base);
    CHECK_MSG(len <= 255, "temporary name of %zu bytes", len);
    CHECK(!strncmp(base, ".gs-tmp-", 8));
    CHECK(len > 5 && !strcmp(base + len - 5, ".flac"));
    /* The part after the 16 hex digits starts on a whole character. */
    CHECK(((unsigned char)base[8 + 16] & 0xc0) != 0x80);
    close(fd);
    unlink(tmp);
}

static void test_append_in_place(void)
{
    char p[600];
    gs_error err;
    path_in(p, sizeof p, "log.csv");
    FILE *f = gs_output_open_in_place(p, 0, &err);
    CHECK(f != NULL);
    if (f) {
        fputs("a\n", f);
        fclose(f);
    }
    f = gs_output_open_in_place(p, 1, &err);
    CHECK(f != NULL);
    if (f) {
        fputs("b\n", f);
        fclose(f);
    }
    CHECK(has_text(p, "a\nb\n"));
    f = gs_output_open_in_place(p, 0, &err); /* truncates */
    if (f)
        fclose(f);
    CHECK(has_text(p, ""));
}

int main(void)
{
    if (gs_test_tmpdir(root, sizeof root, "outfile") != 0)
        return EXIT_FAILURE;
    test_new_and_replaced();
    test_symlinks_written_through();
    test_refused();
    test_target_changes_while_writing();
    test_temp_names();
    test_long_temp_names();
    test_append_in_place();
    int rc = gs_test_finish("test_outfile");
    if (rc == EXIT_SUCCESS)
        gs_test_rmtree(root);
    return rc;
}
