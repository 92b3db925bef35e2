/* genrescope-train --labels-from-tags (gs_dataset_from_tags) reads genres
 * as the tagger does (tags/tag_read.h): a file whose tag holds one genre
 * is an example of it; a file with several different genres, whether a
 * multi-valued tag or genrescope's "; "-joined single string, is left out
 * and counted (TagLib's C binding, which the trainer used before, read
 * "Rock" + "Blues" as one label "rock blues"); repeats of one genre are one
 * genre. Fixtures are tagged with the tagger's own writer. */
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "dataset.h"
#include "support/tmpdir.h"
#include "tag_read.h"
#include "tag_writer.h"
#include "test_train_wav.h"

static char root[1024];

static void path_in(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", root, rel);
}

static void synth(const char *rel, uint64_t seed)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    CHECK(gs_write_synth_wav(p, GS_SYNTH_TONE, 1.0, 22050, -12.0, seed) == 0);
}

/* Tags rel with genres, as one "; "-joined string when joined. */
static void tag(const char *rel, int joined, int num_genres, const char *const *genres)
{
    char p[2048], message[256] = "";
    path_in(p, sizeof p, rel);
    gs_tag_request req = {.genres = genres,
                          .num_genres = num_genres,
                          .confidence = -1.0f,
                          .overwrite = 1,
                          .separator = joined ? GS_TAG_GENRE_SEPARATOR : NULL};
    gs_tag_outcome o = gs_tag_write(p, &req, NULL, 0, message, sizeof message);
    CHECK_MSG(o == GS_TAG_WRITTEN, "%s: %s %s", rel, gs_tag_outcome_name(o), message);
}

static void test_reader(void)
{
    static const char *const two[] = {"Rock", "Blues"};
    synth("reader.wav", 9);
    tag("reader.wav", 0, 2, two);
    char p[2048];
    path_in(p, sizeof p, "reader.wav");
    char **genres = NULL;
    int count = -1;
    CHECK(gs_tag_read_genres(p, &genres, &count) == 0);
    CHECK(count == 2 && genres && !strcmp(genres[0], "Rock") && !strcmp(genres[1], "Blues"));
    gs_tag_genres_free(genres, count);
    /* The joined form the tagger reports is the same list. */
    char genre[256], conf[64];
    CHECK(gs_tag_read(p, genre, sizeof genre, conf, sizeof conf) == 0);
    CHECK_MSG(!strcmp(genre, "Rock; Blues"), "%s", genre);
    path_in(p, sizeof p, "missing.wav");
    CHECK(gs_tag_read_genres(p, &genres, &count) == -1 && genres == NULL && count == 0);
    gs_tag_genres_free(NULL, 0);
}

static void test_labels(void)
{
    static const char *const jazz[] = {"Jazz"}, *const rock[] = {"Rock"};
    static const char *const jazz_twice[] = {"Jazz", "jazz "}, *const rock_blues[] = {"Rock", "Blues"};
    char p[2048];
    path_in(p, sizeof p, "lib");
    CHECK(mkdir(p, 0755) == 0);
    synth("lib/a.wav", 1);
    synth("lib/b.wav", 2);
    synth("lib/c.wav", 3);
    synth("lib/d.wav", 4);
    synth("lib/e.wav", 5);
    synth("lib/f.wav", 6);
    tag("lib/a.wav", 0, 1, jazz);
    tag("lib/b.wav", 0, 2, jazz_twice); /* one genre, said twice */
    tag("lib/c.wav", 0, 2, rock_blues); /* a multi-valued tag */
    tag("lib/d.wav", 1, 2, rock_blues); /* "Rock; Blues" in one string */
    tag("lib/e.wav", 0, 1, rock);
    /* f.wav has no tag. */
    FILE *warn = tmpfile();
    gs_dataset ds;
    gs_error err;
    int untagged = -1;
    CHECK(gs_dataset_from_tags(&ds, p, &untagged, warn, &err) == GS_OK);
    CHECK_MSG(ds.num_items == 3 && ds.num_labels == 2, "%d items, %d labels", ds.num_items, ds.num_labels);
    CHECK(!strcmp(ds.labels[0], "jazz") && !strcmp(ds.labels[1], "rock"));
    CHECK(untagged == 1 && ds.multi_genre == 2);
    for (int i = 0; i < ds.num_items; i++)
        CHECK(!strstr(ds.items[i].path, "/c.wav") && !strstr(ds.items[i].path, "/d.wav"));
    char text[2048] = "";
    rewind(warn);
    size_t got = fread(text, 1, sizeof text - 1, warn);
    text[got] = '\0';
    CHECK_MSG(strstr(text, "2 file(s) with several genres are not used"), "warnings: %s", text);
    gs_dataset_free(&ds);
    fclose(warn);

    /* Only ambiguous files: nothing to train on, and the message says why. */
    path_in(p, sizeof p, "ambiguous");
    CHECK(mkdir(p, 0755) == 0);
    synth("ambiguous/x.wav", 7);
    tag("ambiguous/x.wav", 0, 2, rock_blues);
    CHECK(gs_dataset_from_tags(&ds, p, &untagged, NULL, &err) == GS_ERR_INVALID);
    CHECK_MSG(strstr(err.message, "exactly one genre") && strstr(err.message, "1 with several"), "%s", err.message);
}

int main(void)
{
    if (gs_test_tmpdir(root, sizeof root, "train_tags") != 0)
        return 1;
    test_reader();
    test_labels();
    if (!gs_test_failures)
        gs_test_rmtree(root);
    return gs_test_finish("test_train_tags");
}
