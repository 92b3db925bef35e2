/* genrescope-train's command line (cli.h): the --help text and the parser
 * that fills gs_train_cli, with every option's range in one place. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "genrescope/parse_number.h"

/* A usage error as the tagger's commands (and GNU tools) print one: the
 * problem on one line, then where to read more. Returns 2, the usage
 * status, so callers can return its value. */
__attribute__((format(printf, 2, 3))) static int usage_error(FILE *errout, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("genrescope-train: ", errout);
    vfprintf(errout, fmt, ap);
    va_end(ap);
    fputs("\nTry 'genrescope-train --help' for more information.\n", errout);
    return 2;
}

void gs_train_cli_usage(FILE *out)
{
    fprintf(out,
            "usage: genrescope-train [OPTIONS] DATA_DIR -o MODEL.safetensors\n"
            "       genrescope-train [OPTIONS] --csv LIST.csv -o MODEL.safetensors\n"
            "       genrescope-train [OPTIONS] --labels-from-tags MUSIC_DIR -o MODEL.safetensors\n"
            "       genrescope-train --evaluate MODEL DATA_DIR|LIST.csv [--json]\n"
            "\n"
            "Trains a genre classifier on labelled audio with the same front-end the\n"
            "genrescope tagger and plugin use, and writes a model file they can load.\n"
            "\n"
            "Data (any label set, at least 2 labels):\n"
            "  DATA_DIR                  folder tree DATA_DIR/<label>/<audio files>\n"
            "  --csv FILE                lines 'path,label' (paths relative to FILE's folder)\n"
            "  --labels-from-tags DIR    every audio file under DIR, labelled by its genre tag\n"
            "                            (untagged files, and files with several genres, are\n"
            "                            skipped and counted)\n"
            "  --labels A,B,...          the only labels allowed: a CSV line with another\n"
            "                            label is an error; folders/tags with others are skipped\n"
            "  --not-music DIR           every audio file under DIR (noise, tones, speech...;\n"
            "                            scripts/nonmusic.py makes some) is an example of one\n"
            "                            more label, \"notmusic\", which the model then reports\n"
            "                            as \"not music\" instead of a genre. Training only: never\n"
            "                            validated or held out, in every fold\n"
            "  Unreadable or corrupt files are skipped with a warning and counted.\n"
            "\n"
            "Model:\n"
            "  -o, --output FILE         model to write (safetensors with full metadata)\n"
            "  --arch FILE               architecture JSON (models/arch/*.json); input shape and\n"
            "                            output count are adapted to the data. Default: the\n"
            "                            built-in short-chunk CNN\n"
            "  --width N                 channels of the built-in design's first block (16)\n"
            "  --dropout P               dropout before its classifier (0.3)\n"
            "  --name NAME               design name recorded in the model (default from --arch)\n"
            "  --init-from MODEL         start from an existing model (fine-tuning); its\n"
            "                            front-end and architecture are used\n"
            "  --log-offset X            front-end log floor, ln(mel + X) (default 1e-6); a\n"
            "                            smaller floor keeps quiet bands level-invariant\n"
            "  --patch-hop F             frames between the starts of the patches the deployed\n"
            "                            classifier averages (default 128: one patch, no overlap);\n"
            "                            training crops at random, so only scoring and the model change\n"
            "  --replace-head            with --init-from: new classifier layer for this data's labels\n"
            "\n"
            "Training:\n"
            "  --epochs N (30)  --batch N (32, max 64)\n"
            "  --crops-per-clip N (8)    crops per epoch = training clips x N; each crop is a\n"
            "                            random non-silent patch (a clip shorter than a patch is\n"
            "                            repeated to fill one, as the classifier does)\n"
            "  --balance MODE (genre)    how each crop's clip is drawn: genre = a genre uniformly,\n"
            "                            then one of its clips uniformly, so every genre contributes\n"
            "                            equally however much audio it has; genre-length = a genre\n"
            "                            uniformly, then a clip in proportion to its non-silent\n"
            "                            length; none = every clip N times (large genres dominate)\n"
            "  --lr X (1e-3)  --weight-decay X (1e-2)  --optimizer adamw|sgd  --momentum X (0.9)\n"
            "  --warmup-epochs X (2)     cosine schedule after a linear warm-up\n"
            "  --seed N (1)              every random choice derives from it\n"
            "  --threads N               OpenBLAS threads (default: OpenBLAS's choice)\n"
            "Augmentation (random patch crops always):\n"
            "  --gain-db X (12)  --time-masks N (2)  --time-mask-max F (16)\n"
            "  --freq-masks N (2)  --freq-mask-max B (12)  --mixup ALPHA (0.2)\n"
            "  --label-smoothing E (0)   --no-augment (crops only)\n"
            "  --lowpass P (0.25)        with probability P per crop, a low-pass at a random\n"
            "                            cut-off: mel bands above it fall to the log floor (a\n"
            "                            band straddling it keeps the share of its filter below\n"
            "                            it), so a band-limited recording's missing top octave\n"
            "                            cannot become a genre cue; 0 = off\n"
            "  --lowpass-hz LO HI        the cut-off's range in Hz (4000 11000)\n"
            "  --pitch S (0)             shift each crop's pitch by a random -S..+S semitones\n"
            "                            (in the mel domain: bands move to where their centre\n"
            "                            frequency goes); 0 = off, at most 12\n"
            "  --tempo T (0)             play each crop at a random speed between 1/(1+T) and\n"
            "                            1+T times (frames interpolated); 0 = off, at most 1\n"
            "  --clip-variants K (0)     also train on K copies of every clip scaled by a\n"
            "                            random +3..+12 dB (fixed by --seed and the clip) and\n"
            "                            hard-clipped to [-1,1], as a hot master is; crops\n"
            "                            draw from the original or a copy (never validated on)\n"
            "\n"
            "Validation:\n"
            "  --cv K                    K-fold cross-validation stratified by label before the\n"
            "                            final training on all data; each fold's model is scored\n"
            "                            through the deployed classifier\n"
            "  --cv-only                 stop after cross-validation\n"
            "  --keep-fold-models        keep each fold's model as OUTPUT.foldK.safetensors\n"
            "                            (SUMMARY.foldK.safetensors with --cv-only and no -o),\n"
            "                            e.g. to classify other material with them; removed\n"
            "                            once scored otherwise\n"
            "  --final-only              skip validation runs (e.g. the given split's), train\n"
            "                            the final model on all listed data\n"
            "  --fold-layout L (contiguous)  how --cv deals each label's files into folds:\n"
            "                            contiguous: K runs of consecutive files in path order,\n"
            "                            so an artist's or album's files (neighbours in path\n"
            "                            order) stay together and a fold is mostly scored on\n"
            "                            artists it did not train on; shuffled: at random,\n"
            "                            which puts one artist on both sides, overstates\n"
            "                            accuracy and misleads a calibration fitted on it\n"
            "  --fold-seed N (1)         seed of --fold-layout shuffled\n"
            "  --split TRAIN.txt VALID.txt  given split instead of folds (names like genre/genre.00012)\n"
            "  --auto-split              use DATA_DIR/train.txt + valid.txt when both exist, else --cv\n"
            "  --baseline                also score logistic regression on per-band log-mel\n"
            "                            mean/std on the same folds\n"
            "  --summary FILE            write the results as JSON\n"
            "  --provenance-extra FILE   JSON object whose members are added to the model's\n"
            "                            provenance (e.g. CV results of earlier runs)\n"
            "  --confusion-dat FILE      write the CV confusion matrix for gnuplot\n"
            "  --predictions FILE        write every held-out clip's verdict through the\n"
            "                            classifier as CSV: stem, fold, label, predicted and\n"
            "                            one p_<label> column per label (its probabilities)\n"
            "  --calibrate-from FILE     fit the calibration temperature on held-out\n"
            "                            predictions (a --predictions CSV of another run, e.g.\n"
            "                            cross-validation) and store it in the written model,\n"
            "                            so its confidences are calibrated probabilities\n"
            "  --tagging FILE            JSON object stored as the model's \"tagging\" metadata:\n"
            "                            {\"min_confidence\": P, ...} becomes the tagger's default\n"
            "                            threshold (scripts/report-model.py measures P)\n"
            "  --not-music-decision FILE JSON object stored as the model's \"not_music_decision\"\n"
            "                            metadata: {\"min_probability\": P, ...} is the not-music\n"
            "                            probability from which the answer is \"not music\"\n"
            "                            (default 0.5; report-model.py picks P on held-out music)\n"
            "  --export-specs DIR        write the cached spectrograms and folds (float32 + CSV)\n"
            "                            for train/reference/train_torch.py\n"
            "\n"
            "Files:\n"
            "  --cache DIR               spectrogram cache (default $XDG_CACHE_HOME/genrescope-train)\n"
            "  --no-cache                compute spectrograms in memory only\n"
            "  --checkpoint FILE         checkpoint after every epoch (default OUTPUT.ckpt)\n"
            "  --resume                  continue from the checkpoint if it exists\n"
            "  --stop-after-epochs N     end this session after N epochs, keeping the\n"
            "                            checkpoint, as an interruption would (for testing --resume)\n"
            "  --log FILE                CSV log: epoch, lr, train/valid loss and accuracy, seconds\n"
            "  -q, --quiet               no progress output\n"
            "\n"
            "Evaluation:\n"
            "  --evaluate MODEL DATA     accuracy, per-class precision/recall and confusion\n"
            "                            matrix of MODEL ('default' = the embedded model) on a\n"
            "                            labelled folder or CSV; --json for machine output\n");
}

/* Options without a value: sets what a names and returns 1, or returns 0
 * when a is not one. */
static int parse_flag(gs_train_cli *c, const char *a)
{
    if (!strcmp(a, "--json"))
        c->json = 1;
    else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
        c->quiet = 1;
    else if (!strcmp(a, "--replace-head"))
        c->replace_head = 1;
    else if (!strcmp(a, "--resume"))
        c->resume = 1;
    else if (!strcmp(a, "--no-cache"))
        c->no_cache = 1;
    else if (!strcmp(a, "--cv-only"))
        c->cv_only = 1;
    else if (!strcmp(a, "--keep-fold-models"))
        c->keep_fold_models = 1;
    else if (!strcmp(a, "--final-only"))
        c->final_only = 1;
    else if (!strcmp(a, "--auto-split"))
        c->auto_split = 1;
    else if (!strcmp(a, "--baseline"))
        c->baseline = 1;
    else if (!strcmp(a, "--no-augment"))
        gs_augment_none(&c->train.augment);
    else
        return 0;
    return 1;
}

/* The field an option with a string value (a path, a name) sets, or NULL
 * when a is not one. */
static const char **string_option(gs_train_cli *c, const char *a)
{
    if (!strcmp(a, "-o") || !strcmp(a, "--output"))
        return &c->output;
    if (!strcmp(a, "--csv"))
        return &c->csv;
    if (!strcmp(a, "--labels"))
        return &c->labels;
    if (!strcmp(a, "--labels-from-tags"))
        return &c->tags_dir;
    if (!strcmp(a, "--arch"))
        return &c->arch_path;
    if (!strcmp(a, "--name"))
        return &c->design_name;
    if (!strcmp(a, "--init-from"))
        return &c->init_from;
    if (!strcmp(a, "--cache"))
        return &c->cache_dir;
    if (!strcmp(a, "--checkpoint"))
        return &c->checkpoint;
    if (!strcmp(a, "--log"))
        return &c->log_csv;
    if (!strcmp(a, "--provenance-extra"))
        return &c->provenance_extra;
    if (!strcmp(a, "--summary"))
        return &c->summary;
    if (!strcmp(a, "--confusion-dat"))
        return &c->confusion_dat;
    if (!strcmp(a, "--predictions"))
        return &c->predictions;
    if (!strcmp(a, "--not-music"))
        return &c->not_music_dir;
    if (!strcmp(a, "--calibrate-from"))
        return &c->calibrate_from;
    if (!strcmp(a, "--tagging"))
        return &c->tagging_json;
    if (!strcmp(a, "--not-music-decision"))
        return &c->not_music_decision_json;
    if (!strcmp(a, "--export-specs"))
        return &c->export_dir;
    return NULL;
}

/* Options with a number or a choice as value: 0 when v was taken, 1 when v
 * is out of range or not a choice, -1 when a is not one of them. */
static int parse_value_option(gs_train_cli *c, const char *a, const char *v)
{
    gs_train_config *t = &c->train;
    if (!strcmp(a, "--width"))
        return gs_parse_int(v, 1, 256, &c->width) != 0;
    if (!strcmp(a, "--log-offset"))
        return gs_parse_float(v, 1e-20f, 1.0f, &c->log_offset) != 0;
    if (!strcmp(a, "--patch-hop"))
        return gs_parse_int(v, 1, 100000, &c->patch_hop) != 0;
    if (!strcmp(a, "--dropout"))
        return gs_parse_float(v, 0.0f, 0.95f, &c->dropout) != 0;
    if (!strcmp(a, "--epochs"))
        return gs_parse_int(v, 1, 100000, &t->epochs) != 0;
    if (!strcmp(a, "--batch"))
        return gs_parse_int(v, 2, 64, &t->batch) != 0;
    if (!strcmp(a, "--crops-per-clip"))
        return gs_parse_int(v, 1, 10000, &t->crops_per_clip) != 0;
    if (!strcmp(a, "--fold-layout")) {
        if (!strcmp(v, "contiguous"))
            c->shuffled_folds = 0;
        else if (!strcmp(v, "shuffled"))
            c->shuffled_folds = 1;
        else
            return 1;
        return 0;
    }
    if (!strcmp(a, "--balance")) {
        if (!strcmp(v, "none"))
            t->balance = GS_BALANCE_NONE;
        else if (!strcmp(v, "genre"))
            t->balance = GS_BALANCE_GENRE;
        else if (!strcmp(v, "genre-length"))
            t->balance = GS_BALANCE_GENRE_LENGTH;
        else
            return 1;
        return 0;
    }
    if (!strcmp(a, "--lowpass"))
        return gs_parse_float(v, 0.0f, 1.0f, &t->augment.lowpass_p) != 0;
    if (!strcmp(a, "--pitch"))
        return gs_parse_float(v, 0.0f, 12.0f, &t->augment.pitch_semitones) != 0;
    if (!strcmp(a, "--tempo"))
        return gs_parse_float(v, 0.0f, GS_AUGMENT_MAX_TEMPO, &t->augment.tempo) != 0;
    if (!strcmp(a, "--lr"))
        return gs_parse_float(v, 1e-8f, 10.0f, &t->optim.lr) != 0;
    if (!strcmp(a, "--weight-decay"))
        return gs_parse_float(v, 0.0f, 10.0f, &t->optim.weight_decay) != 0;
    if (!strcmp(a, "--momentum"))
        return gs_parse_float(v, 0.0f, 0.999f, &t->optim.momentum) != 0;
    if (!strcmp(a, "--warmup-epochs"))
        return gs_parse_float(v, 0.0f, 1000.0f, &t->warmup_epochs) != 0;
    if (!strcmp(a, "--optimizer")) {
        if (!strcmp(v, "adamw"))
            t->optim.kind = GS_OPTIM_ADAMW;
        else if (!strcmp(v, "sgd"))
            t->optim.kind = GS_OPTIM_SGD;
        else
            return 1;
        return 0;
    }
    if (!strcmp(a, "--seed") || !strcmp(a, "--fold-seed")) {
        char *end;
        errno = 0;
        /* strtoull would take "-1" as 2^64 - 1: a seed is written without a sign. */
        unsigned long long s = strtoull(v, &end, 10);
        int bad = errno || end == v || *end || !isdigit((unsigned char)v[0]);
        if (!strcmp(a, "--seed"))
            t->seed = s;
        else {
            c->fold_seed = s;
            c->fold_seed_given = 1;
        }
        return bad;
    }
    if (!strcmp(a, "--threads"))
        return gs_parse_int(v, 1, 256, &c->threads) != 0;
    if (!strcmp(a, "--stop-after-epochs"))
        return gs_parse_int(v, 1, 100000, &c->stop_after) != 0;
    if (!strcmp(a, "--cv"))
        return gs_parse_int(v, 2, 100, &c->cv_folds) != 0;
    if (!strcmp(a, "--gain-db"))
        return gs_parse_float(v, 0.0f, 60.0f, &t->augment.gain_db) != 0;
    if (!strcmp(a, "--time-masks"))
        return gs_parse_int(v, 0, 16, &t->augment.time_masks) != 0;
    if (!strcmp(a, "--time-mask-max"))
        return gs_parse_int(v, 0, 100000, &t->augment.time_mask_max) != 0;
    if (!strcmp(a, "--freq-masks"))
        return gs_parse_int(v, 0, 16, &t->augment.freq_masks) != 0;
    if (!strcmp(a, "--freq-mask-max"))
        return gs_parse_int(v, 0, 512, &t->augment.freq_mask_max) != 0;
    if (!strcmp(a, "--mixup"))
        return gs_parse_float(v, 0.0f, 100.0f, &t->augment.mixup_alpha) != 0;
    if (!strcmp(a, "--clip-variants"))
        return gs_parse_int(v, 0, 16, &c->clip.count) != 0;
    if (!strcmp(a, "--label-smoothing"))
        return gs_parse_float(v, 0.0f, 0.5f, &t->augment.label_smoothing) != 0;
    return -1;
}

/* Options that take two values (--evaluate MODEL DATA, --lowpass-hz LO HI,
 * --split TRAIN VALID), starting at argv[*i]: 0 when taken (*i moves past
 * the values), 2 on a usage error (printed), -1 when argv[*i] is not one. */
static int parse_pair_option(gs_train_cli *c, int argc, char **argv, int *i, FILE *errout)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--evaluate")) {
        if (*i + 2 >= argc) {
            return usage_error(errout, "--evaluate needs MODEL and DATA");
        }
        c->mode = GS_TRAIN_MODE_EVALUATE;
        c->eval_model = argv[*i + 1];
        c->eval_data = argv[*i + 2];
    } else if (!strcmp(a, "--lowpass-hz")) {
        if (*i + 2 >= argc || gs_parse_float(argv[*i + 1], 1.0f, 1e6f, &c->train.augment.lowpass_min_hz) ||
            gs_parse_float(argv[*i + 2], 1.0f, 1e6f, &c->train.augment.lowpass_max_hz) ||
            c->train.augment.lowpass_min_hz > c->train.augment.lowpass_max_hz) {
            return usage_error(errout, "--lowpass-hz needs LO HI in Hz with LO <= HI");
        }
    } else if (!strcmp(a, "--split")) {
        if (*i + 2 >= argc) {
            return usage_error(errout, "--split needs TRAIN.txt and VALID.txt");
        }
        c->split_train = argv[*i + 1];
        c->split_valid = argv[*i + 2];
    } else {
        return -1;
    }
    *i += 2;
    return 0;
}

/* What no single option can say wrong: the data source, the output, and
 * options that need or exclude each other. 0, or 2 (printed). */
static int check_training_options(const gs_train_cli *c, FILE *errout)
{
    int sources = !!c->data_dir + !!c->csv + !!c->tags_dir;
    if (sources != 1)
        return usage_error(errout, "give exactly one of DATA_DIR, --csv FILE, --labels-from-tags DIR");
    if (!c->output && !c->cv_only && !c->export_dir && !c->baseline) {
        return usage_error(errout, "say where to write the model with -o FILE (or use --cv K --cv-only)");
    }
    if (c->keep_fold_models && !c->output && !c->summary) {
        return usage_error(errout, "--keep-fold-models needs -o or --summary to name the fold models after");
    }
    if (c->fold_seed_given && !c->shuffled_folds) {
        return usage_error(errout,
                           "--fold-seed only applies to --fold-layout shuffled (contiguous folds have no seed)");
    }
    if (c->replace_head && !c->init_from) {
        return usage_error(errout, "--replace-head needs --init-from MODEL");
    }
    if (c->init_from && c->arch_path) {
        return usage_error(errout, "--init-from uses the model's architecture; drop --arch");
    }
    return 0;
}

int gs_train_cli_parse(gs_train_cli *c, int argc, char **argv, FILE *errout)
{
    memset(c, 0, sizeof *c);
    gs_train_config_default(&c->train);
    c->width = 16;
    c->dropout = 0.3f;
    c->fold_seed = 1;
    gs_clip_variant_default(&c->clip);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            c->mode = GS_TRAIN_MODE_HELP;
            return 0;
        }
        if (!strcmp(a, "--version")) {
            c->mode = GS_TRAIN_MODE_VERSION;
            return 0;
        }
        int rc = parse_pair_option(c, argc, argv, &i, errout);
        if (rc == 2)
            return 2;
        if (rc == 0 || parse_flag(c, a))
            continue;
        if (!(a[0] == '-' && a[1])) {
            if (c->data_dir)
                return usage_error(errout, "more than one data folder (%s, %s)", c->data_dir, a);
            c->data_dir = a;
            continue;
        }
        const char **field = string_option(c, a);
        int bad = field ? 0 : -1;
        if (v && !field)
            bad = parse_value_option(c, a, v);
        if (!v && !field) {
            /* Only to tell a misspelt last option (unrecognised) from a
             * known one missing its value; the probe keeps c untouched. */
            gs_train_cli probe = *c;
            bad = parse_value_option(&probe, a, "") < 0 ? -1 : 0;
        }
        if (bad < 0)
            return usage_error(errout, "unrecognized option '%s'", a);
        if (!v)
            return usage_error(errout, "option '%s' requires a value", a);
        if (bad)
            return usage_error(errout, "invalid value '%s' for %s", v, a);
        if (field)
            *field = v;
        i++;
    }
    c->clip.seed = c->train.seed;
    if (c->mode != GS_TRAIN_MODE_TRAIN)
        return 0;
    return check_training_options(c, errout);
}
