/* The model embedded in the library (model_default_blob.S includes its
 * bytes at build time), loaded from memory like any file; a build without
 * one answers with an error naming --model instead. */
#include "genrescope/model.h"

#ifdef GS_HAVE_DEFAULT_MODEL
extern const unsigned char gs_default_model_start[];
extern const unsigned char gs_default_model_end[];

gs_model *gs_model_load_default(gs_error *err)
{
    size_t size = (size_t)(gs_default_model_end - gs_default_model_start);
    gs_model *model = gs_model_load_memory(gs_default_model_start, size, err);
    if (!model)
        gs_error_prefix(err, "embedded default model");
    return model;
}
#else
gs_model *gs_model_load_default(gs_error *err)
{
    gs_error_set(err, GS_ERR_MODEL, "this build has no embedded default model; pass --model FILE");
    return NULL;
}
#endif
