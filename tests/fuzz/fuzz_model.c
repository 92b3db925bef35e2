/* Fuzz target: the model loader and the network builder on arbitrary bytes.
 * Anything accepted must build or be refused with a message, never crash. */
#include <stdint.h>
#include <string.h>

#include "genrescope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_error err;
    gs_model *m = gs_model_load_memory(data, size, &err);
    if (!m)
        return 0;
    /* Everything a caller may ask of a loaded model. */
    for (int i = 0; i < gs_model_num_labels(m); i++)
        (void)strlen(gs_model_label(m, i));
    (void)gs_model_not_music_label(m);
    (void)gs_model_calibration_temperature(m);
    (void)strlen(gs_model_provenance_json(m));
    gs_net *net = gs_net_from_model(m, &err);
    gs_net_free(net);
    gs_model_free(m);
    return 0;
}
