/* The test CLI (genrescope_fake) has no core classifier: `classify` is the
 * lead's command and is tested with the real binary. */
#include <stdio.h>

#include "commands.h"

int gs_cmd_classify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "genrescope classify: not available in the test build\n");
    return 2;
}
