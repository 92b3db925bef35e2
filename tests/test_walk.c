/* The one directory walker (core/internal genrescope/walk.h) that the
 * tagger's scan and the trainer's datasets share: stable path order and
 * relative names, symlink loops entered once, a file with two names listed
 * once when asked (symlink and hard link), hidden names and system folders
 * skipped unless asked, the caller's skip hook, and unreadable entries
 * (a folder without permission, a dangling symlink, a FIFO with an audio
 * name) reported while the walk goes on. Tests run as root, which reads
 * any folder whatever its mode, so the permission case runs in a child
 * that has dropped to nobody. */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "genrescope/walk.h"
#include "support/tmpdir.h"

static char root[1024];

static void path_in(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", root, rel);
}

static void touch(const char *rel)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    CHECK_MSG(f != NULL, "cannot create %s", p);
    if (f) {
        fputs("not really audio: the walker never opens a file\n", f);
        fclose(f);
    }
}

static void make_dir(const char *rel)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    CHECK_MSG(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
}

static void link_in(const char *target, const char *rel)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    CHECK_MSG(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

typedef struct warnings {
    char text[4096];
    int count;
} warnings;

static void collect(void *user, const char *path, const char *reason)
{
    warnings *w = user;
    size_t n = strlen(w->text);
    snprintf(w->text + n, sizeof w->text - n, "%s: %s\n", path, reason);
    w->count++;
}

/* The walk's rel names joined by spaces, for one comparison per case. */
static void rels(const gs_walk_list *l, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < l->count; i++) {
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s", i ? " " : "", l->entries[i].rel);
    }
}

static gs_status walk_one(const char *rel, const gs_walk_options *o, gs_walk_list *out, gs_error *err)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    const char *roots[] = {p};
    return gs_walk(roots, 1, o, out, err);
}

static void test_order_and_names(void)
{
    make_dir("order");
    make_dir("order/b");
    make_dir("order/a");
    make_dir("order/a/deep");
    touch("order/z.flac");
    touch("order/b/2.mp3");
    touch("order/b/10.mp3");
    touch("order/a/deep/x.WAV");
    touch("order/a/y.ogg");
    touch("order/readme.txt");
    touch("order/cover.jpg");
    gs_walk_list l = {0};
    gs_error err;
    CHECK(walk_one("order", NULL, &l, &err) == GS_OK);
    char got[1024];
    rels(&l, got, sizeof got);
    /* Byte order of the path, whatever readdir returned: the same tree
     * always gives the same list (and the same training run). */
    CHECK_MSG(!strcmp(got, "a/deep/x.WAV a/y.ogg b/10.mp3 b/2.mp3 z.flac"), "got %s", got);
    char want[2048];
    path_in(want, sizeof want, "order/b/10.mp3");
    CHECK_MSG(l.count == 5 && !strcmp(l.entries[2].path, want), "path %s", l.count ? l.entries[2].path : "");
    CHECK(l.count == 5 && l.entries[4].size > 0 && l.entries[4].mtime_ns > 0 && l.entries[4].ino != 0);
    /* A second walk appends, sorted within what it added. */
    CHECK(walk_one("order/b", NULL, &l, &err) == GS_OK);
    rels(&l, got, sizeof got);
    CHECK_MSG(!strcmp(got, "a/deep/x.WAV a/y.ogg b/10.mp3 b/2.mp3 z.flac 10.mp3 2.mp3"), "got %s", got);
    gs_walk_list_free(&l);
    CHECK(l.count == 0 && l.entries == NULL);
    gs_walk_list_free(NULL);
}

static void test_links(void)
{
    make_dir("links");
    make_dir("links/sub");
    touch("links/a.wav");
    touch("links/sub/b.wav");
    link_in(".", "links/loop");      /* back to itself */
    link_in("..", "links/sub/up");   /* back up the tree */
    link_in("sub", "links/again");   /* a second route to a folder */
    link_in("a.wav", "links/c.wav"); /* a second name for a file */
    char p[2048], q[2048];
    path_in(p, sizeof p, "links/a.wav");
    path_in(q, sizeof q, "links/sub/hard.wav");
    CHECK(link(p, q) == 0); /* and a third, a hard link */

    gs_walk_list l = {0};
    gs_error err;
    char got[1024];
    /* Every folder is entered once; each name of a file is a path. */
    CHECK(walk_one("links", NULL, &l, &err) == GS_OK);
    rels(&l, got, sizeof got);
    CHECK_MSG(!strcmp(got, "a.wav c.wav sub/b.wav sub/hard.wav"), "got %s", got);
    gs_walk_list_free(&l);

    /* One name per file: the first in path order. */
    gs_walk_options o = {.one_name_per_file = 1};
    CHECK(walk_one("links", &o, &l, &err) == GS_OK);
    rels(&l, got, sizeof got);
    CHECK_MSG(!strcmp(got, "a.wav sub/b.wav"), "got %s", got);
    gs_walk_list_free(&l);

    /* Canonical paths: a symlink's target is listed once, but a hard link
     * is a path of its own. */
    o = (gs_walk_options){.canonical_paths = 1};
    CHECK(walk_one("links", &o, &l, &err) == GS_OK);
    CHECK_MSG(l.count == 3, "%zu entries", l.count);
    char *canon = realpath(p, NULL);
    CHECK(canon && l.count == 3 && !strcmp(l.entries[0].path, canon));
    free(canon);
    gs_walk_list_free(&l);
}

static int skip_mine(void *user, const char *dir, const char *name)
{
    (*(int *)user)++;
    CHECK(dir && dir[0]);
    return !strncmp(name, ".mine-", 6);
}

static void test_skipped_names(void)
{
    make_dir("skip");
    static const char *const system[] = {
        "lost+found", "System Volume Information", "$RECYCLE.BIN", "@eaDir", "#recycle", ".hidden"};
    char rel[256];
    for (size_t i = 0; i < sizeof system / sizeof system[0]; i++) {
        snprintf(rel, sizeof rel, "skip/%s", system[i]);
        make_dir(rel);
        snprintf(rel, sizeof rel, "skip/%s/in.wav", system[i]);
        touch(rel);
        CHECK(gs_walk_skips_name(system[i], 0) && !gs_walk_skips_name(system[i], 1));
    }
    touch("skip/.dot.wav");
    touch("skip/.mine-1.wav");
    touch("skip/keep.wav");
    CHECK(gs_walk_skips_name(".", 1) && gs_walk_skips_name("..", 1) && !gs_walk_skips_name("Rock", 0));

    gs_walk_list l = {0};
    gs_error err;
    char got[1024];
    CHECK(walk_one("skip", NULL, &l, &err) == GS_OK);
    rels(&l, got, sizeof got);
    CHECK_MSG(!strcmp(got, "keep.wav"), "got %s", got);
    gs_walk_list_free(&l);

    int calls = 0;
    gs_walk_options o = {.include_hidden = 1, .skip = skip_mine, .user = &calls};
    CHECK(walk_one("skip", &o, &l, &err) == GS_OK);
    rels(&l, got, sizeof got);
    CHECK_MSG(!strcmp(got,
                      "#recycle/in.wav $RECYCLE.BIN/in.wav .dot.wav .hidden/in.wav @eaDir/in.wav "
                      "System Volume Information/in.wav keep.wav lost+found/in.wav"),
              "got %s", got);
    CHECK(calls >= 9);
    gs_walk_list_free(&l);
}

static void test_roots(void)
{
    gs_walk_list l = {0};
    gs_error err;
    CHECK(walk_one("missing", NULL, &l, &err) == GS_ERR_IO);
    CHECK(err.sys_errno == ENOENT && strstr(err.message, "missing"));
    /* A file named as a root is taken whatever its name. */
    touch("notes.txt");
    CHECK(walk_one("notes.txt", NULL, &l, &err) == GS_OK);
    CHECK(l.count == 1 && !strcmp(l.entries[0].rel, "notes.txt"));
    gs_walk_list_free(&l);
    char p[2048];
    path_in(p, sizeof p, "fifo-root");
    CHECK(mkfifo(p, 0600) == 0);
    CHECK(walk_one("fifo-root", NULL, &l, &err) == GS_ERR_INVALID);
    gs_walk_list_free(&l);
}

/* Unreadable entries are reported, and the rest is still found. */
static void test_unreadable_entries(void)
{
    make_dir("bad");
    touch("bad/ok.wav");
    link_in("nowhere.wav", "bad/dangling.wav");
    char p[2048];
    path_in(p, sizeof p, "bad/pipe.wav");
    CHECK(mkfifo(p, 0600) == 0);
    gs_walk_list l = {0};
    gs_error err;
    warnings w = {"", 0};
    gs_walk_options o = {.warn = collect, .user = &w};
    CHECK(walk_one("bad", &o, &l, &err) == GS_OK);
    CHECK(l.count == 1 && !strcmp(l.entries[0].rel, "ok.wav"));
    CHECK_MSG(w.count == 2 && strstr(w.text, "dangling.wav: No such file or directory") &&
                  strstr(w.text, "pipe.wav: a FIFO, not a regular file: skipped"),
              "warnings: %s", w.text);
    gs_walk_list_free(&l);
}

/* The child's part of test_unreadable_folder, as nobody: 0 as expected, 1
 * not, GS_TEST_SKIP when nobody cannot reach the test's folder at all. */
static int walk_as_nobody(void)
{
    if (getuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
        return GS_TEST_SKIP;
    char p[2048];
    path_in(p, sizeof p, "perm");
    if (access(p, R_OK | X_OK) != 0)
        return GS_TEST_SKIP;
    gs_walk_list l = {0};
    gs_error err;
    warnings w = {"", 0};
    gs_walk_options o = {.warn = collect, .user = &w};
    int bad = walk_one("perm", &o, &l, &err) != GS_OK;
    char got[1024];
    rels(&l, got, sizeof got);
    bad |= strcmp(got, "a/open.wav z/open.wav") != 0;
    bad |= w.count != 1 || !strstr(w.text, "perm/locked: Permission denied");
    if (bad)
        fprintf(stderr, "as nobody: walked '%s', warnings: %s\n", got, w.text);
    gs_walk_list_free(&l);
    return bad;
}

static void test_unreadable_folder(void)
{
    make_dir("perm");
    make_dir("perm/a");
    make_dir("perm/locked");
    make_dir("perm/z");
    touch("perm/a/open.wav");
    touch("perm/locked/inside.wav");
    touch("perm/z/open.wav");
    char p[2048];
    path_in(p, sizeof p, "perm/locked");
    CHECK(chmod(p, 0700) == 0); /* only its owner, root, may read it */
    CHECK(chmod(root, 0755) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(walk_as_nobody());
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    if (WEXITSTATUS(status) == GS_TEST_SKIP)
        printf("unreadable-folder check skipped: cannot drop to nobody or reach %s as nobody\n", root);
    else
        CHECK_MSG(WEXITSTATUS(status) == 0, "child exit %d", WEXITSTATUS(status));
    CHECK(chmod(p, 0755) == 0);
}

int main(void)
{
    if (gs_test_tmpdir(root, sizeof root, "walk") != 0)
        return 1;
    test_order_and_names();
    test_links();
    test_skipped_names();
    test_roots();
    test_unreadable_entries();
    test_unreadable_folder();
    if (!gs_test_failures)
        gs_test_rmtree(root);
    return gs_test_finish("test_walk");
}
