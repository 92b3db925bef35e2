/* The one list of file-name extensions Genrescope treats as audio: the
 * tagger's library walk, the trainer's folder reader and the tests all ask
 * here, so a format cannot be "audio" to one and not to another. It lists
 * what libsndfile or FFmpeg decode; a file with one of these names that
 * fails to decode is reported, not silently skipped. */
#include "genrescope/audio.h"

#include <string.h>
#include <strings.h>

static const char *const audio_extensions[] = {
    "wav", "wave", "w64", "aif", "aiff", "aifc", "au",   "snd", "caf", "flac", "ogg", "oga", "opus",
    "mp3", "mp2",  "m4a", "m4b", "mp4",  "aac",  "alac", "wma", "ape", "wv",   "mka", "mpc",
};

int gs_audio_is_audio_name(const char *path)
{
    if (!path)
        return 0;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return 0;
    for (size_t i = 0; i < sizeof audio_extensions / sizeof audio_extensions[0]; i++)
        if (!strcasecmp(dot + 1, audio_extensions[i]))
            return 1;
    return 0;
}
