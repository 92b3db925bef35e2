/* Text helpers shared by the programs' line readers (genrescope/text.h). */
#include "genrescope/text.h"

#include <ctype.h>
#include <string.h>

char *gs_text_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}
