/* Labelled audio collections for training and evaluation: a folder tree
 * (<root>/<label>/<file>), a CSV/list of "path,label" lines, or the genre tag
 * of every audio file under a folder (TagLib). Any label set works; labels
 * are sorted so the same data always gives the same label indices. */
#ifndef GS_TRAIN_DATASET_H
#define GS_TRAIN_DATASET_H

#include <stdio.h>

#include "genrescope/audio.h"
#include "genrescope/error.h"
#include "genrescope/model.h"

typedef struct gs_item {
    char *path; /* owned */
    char *stem; /* file name without directories and extension, owned */
    int label;  /* index into labels */
} gs_item;

typedef struct gs_dataset {
    int num_labels;
    char labels[GS_MAX_LABELS][GS_MAX_LABEL_LENGTH];
    int num_items;
    gs_item *items;
    int capacity;
    int unreadable;  /* files and folders under the data that could not be read, left out */
    int multi_genre; /* gs_dataset_from_tags: files with several genres, left out */
} gs_dataset;

/* How every listing below finds files: the core's walker
 * (genrescope/walk.h): recursive, symlinks followed without loops, hidden
 * names and system folders (lost+found...) skipped, each file once however
 * many names it has. A file or folder that cannot be read (no permission,
 * a dangling symlink, a FIFO with an audio name) is reported on warn,
 * counted in ds->unreadable and left out; the listing goes on. */

/* Folder tree: every immediate subfolder of root is a label, every audio file
 * below it (recursively) an example. Subfolders without audio (unreadable
 * ones too) are reported on warn (may be NULL) and ignored. GS_ERR_IO if
 * root cannot be read, GS_ERR_INVALID when no audio is found. Items are
 * sorted by path. */
gs_status gs_dataset_from_folder(gs_dataset *ds, const char *root, FILE *warn, gs_error *err);

/* CSV/list: "path,label" per line (relative paths are relative to the list's
 * folder; '#' lines and a "path,label" header are skipped). When
 * allowed_labels (num_allowed > 0) is given, a line with another label is an
 * error naming the line (GS_ERR_FORMAT), as is a malformed line. */
gs_status gs_dataset_from_csv(gs_dataset *ds, const char *csv_path, const char *const *allowed_labels, int num_allowed,
                              gs_error *err);

/* Genre tags: every audio file below root whose genre tag is non-empty is
 * an example labelled by that tag (trimmed, lower-cased); untagged files
 * (and files whose tags cannot be read, reported on warn) are counted in
 * *untagged. A file with several different genres (a multi-valued tag, or
 * genres joined by "; " as genrescope stores them where a format holds one
 * string) is left out and counted in ds->multi_genre, with a note on warn:
 * one example trains one label, and the order of a tag's genres says
 * nothing reliable about which one the file is (editors sort them, or add
 * a subgenre first), so taking the first would mislabel some of them.
 * GS_ERR_IO if root cannot be read; GS_ERR_INVALID when no file has
 * exactly one genre. Tags are read with tags/tag_read.h, as the tagger
 * reads them. */
gs_status gs_dataset_from_tags(gs_dataset *ds, const char *root, int *untagged, FILE *warn, gs_error *err);

/* Adds every audio file below dir (recursively, sorted) as an example of
 * label, a label the data must not have yet; it becomes the last label (not
 * sorted in), so the other labels keep their indices. *added (may be NULL)
 * gets the count. GS_ERR_IO if dir cannot be read, GS_ERR_INVALID when it
 * holds no audio or the label exists. Unreadable entries below dir are
 * reported on stderr. Used for the not-music examples. */
gs_status gs_dataset_add_folder(gs_dataset *ds, const char *dir, const char *label, int *added, gs_error *err);

/* Checks the dataset is trainable: >= 2 labels that each have >= min_per_label
 * items. The message names the offending labels. */
gs_status gs_dataset_check_trainable(const gs_dataset *ds, int min_per_label, gs_error *err);

/* Re-indexes items to the label order of labels (e.g. a model's); items with
 * labels not in it are dropped and counted in *dropped. GS_ERR_INVALID if
 * nothing is left. */
gs_status gs_dataset_remap(gs_dataset *ds, const char *const *labels, int num_labels, int *dropped, gs_error *err);

/* Index of the item whose stem equals stem, or -1. */
int gs_dataset_find_stem(const gs_dataset *ds, const char *stem);

/* Items per label into counts[num_labels]. */
void gs_dataset_counts(const gs_dataset *ds, int *counts);

void gs_dataset_free(gs_dataset *ds);

#endif
