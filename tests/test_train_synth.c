/* Helper for test_train_cli.sh: writes one synthetic WAV.
 * usage: test_train_synth OUT.wav tone|noise|clicks SECONDS LEVEL_DB SEED */
#include <string.h>

#include "test_train_wav.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s OUT.wav tone|noise|clicks SECONDS LEVEL_DB SEED\n", argv[0]);
        return 2;
    }
    int kind = !strcmp(argv[2], "tone") ? GS_SYNTH_TONE : !strcmp(argv[2], "noise") ? GS_SYNTH_NOISE : GS_SYNTH_CLICKS;
    if (gs_write_synth_wav(argv[1], kind, atof(argv[3]), 22050, atof(argv[4]), strtoull(argv[5], NULL, 10)) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
