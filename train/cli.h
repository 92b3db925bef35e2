/* Command-line options of genrescope-train, parsed into one struct. The
 * gs_train_cli_ prefix keeps these apart from the tagger's gs_cli_ parser:
 * the two programs share no option code. */
#ifndef GS_TRAIN_CLI_H
#define GS_TRAIN_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "trainer.h"

typedef enum gs_train_mode {
    GS_TRAIN_MODE_TRAIN = 0,
    GS_TRAIN_MODE_EVALUATE = 1,
    GS_TRAIN_MODE_HELP = 2,
    GS_TRAIN_MODE_VERSION = 3
} gs_train_mode;

typedef struct gs_train_cli {
    gs_train_mode mode;
    const char *data_dir;    /* positional folder tree */
    const char *csv;         /* --csv */
    const char *tags_dir;    /* --labels-from-tags */
    const char *labels;      /* --labels a,b,c: the only labels allowed */
    const char *output;      /* -o */
    const char *arch_path;   /* --arch */
    const char *design_name; /* --name */
    int width;               /* --width (built-in design) */
    float log_offset;        /* --log-offset (0: front-end default) */
    int patch_hop;           /* --patch-hop (0: front-end default) */
    float dropout;
    const char *init_from;
    int replace_head;
    const char *cache_dir;
    int no_cache;
    const char *checkpoint;
    int resume;
    const char *log_csv;
    int cv_folds; /* --cv K */
    int cv_only;
    int keep_fold_models; /* --keep-fold-models: OUTPUT.foldK.safetensors stay */
    int final_only;       /* --final-only: skip validation runs */
    int shuffled_folds;   /* --fold-layout shuffled (default: contiguous runs) */
    int fold_seed_given;  /* --fold-seed was on the command line */
    uint64_t fold_seed;
    const char *split_train, *split_valid; /* --split */
    int auto_split;                        /* --auto-split: DATA/train.txt + valid.txt when present */
    int baseline;
    const char *export_dir;              /* --export-specs */
    const char *summary;                 /* --summary JSON */
    const char *provenance_extra;        /* --provenance-extra JSON merged into provenance */
    const char *confusion_dat;           /* --confusion-dat */
    const char *predictions;             /* --predictions: held-out verdicts as CSV */
    const char *not_music_dir;           /* --not-music DIR: training-only examples of "not music" */
    const char *calibrate_from;          /* --calibrate-from PREDICTIONS.csv: fit the temperature */
    const char *tagging_json;            /* --tagging FILE: the model's "tagging" metadata (JSON object) */
    const char *not_music_decision_json; /* --not-music-decision FILE: its "not_music_decision" metadata */
    const char *eval_model;              /* --evaluate MODEL DIR */
    const char *eval_data;
    int json;
    int threads;
    int quiet;
    int stop_after; /* --stop-after-epochs (tests: simulated interruption) */
    gs_train_config train;
    gs_clip_variant_config clip; /* --clip-variants K (seed = --seed) */
} gs_train_cli;

/* Parses argv into cli (its strings point into argv, which must outlive
 * it); returns 0 on success, 2 on a usage error (message printed on errout). */
int gs_train_cli_parse(gs_train_cli *cli, int argc, char **argv, FILE *errout);
/* Prints the --help text on out. */
void gs_train_cli_usage(FILE *out);

/* Runs training / cross-validation as the options say (run.c); exit status. */
int gs_run_training(const gs_train_cli *cli);

#endif
