/* gs_test_write_audio (audio_file.h): libsndfile writes of test audio. */
#include "support/audio_file.h"

#include <sndfile.h>

int gs_test_write_audio(const char *path, int format, int rate, int channels, const float *data, int64_t frames)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf)
        return -1;
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_FALSE);
    int rc = sf_writef_float(sf, data, frames) == frames ? 0 : -1;
    if (sf_close(sf) != 0)
        rc = -1;
    return rc;
}
