/* The tag writer from the command line, for tests that read the result
 * back with other programs:
 *   tag_tool write PATH SEPARATOR|- GENRE...   prints the outcome name
 *   tag_tool read PATH                          prints "genre<TAB>confidence" */
#include <stdio.h>
#include <string.h>

#include "tag_writer.h"

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "write")) {
        gs_tag_request req = {
            .genres = (const char *const *)(argv + 4),
            .num_genres = argc - 4,
            .confidence = 0.9f,
            .separator = strcmp(argv[3], "-") ? argv[3] : NULL,
        };
        char message[256];
        gs_tag_outcome o = gs_tag_write(argv[2], &req, NULL, 0, message, sizeof message);
        printf("%s%s%s\n", gs_tag_outcome_name(o), message[0] ? ": " : "", message);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "read")) {
        char genre[1024], confidence[64];
        if (gs_tag_read(argv[2], genre, sizeof genre, confidence, sizeof confidence) != 0)
            return 1;
        printf("%s\t%s\n", genre, confidence);
        return 0;
    }
    fprintf(stderr, "usage: tag_tool write PATH SEPARATOR|- GENRE... | tag_tool read PATH\n");
    return 2;
}
