/* Genrescope: music genre recognition. Umbrella header for the public API. */
#ifndef GENRESCOPE_H
#define GENRESCOPE_H

#include "genrescope/error.h"
#include "genrescope/model.h"
#include "genrescope/audio.h"
#include "genrescope/melspec.h"
#include "genrescope/cnn.h"
#include "genrescope/classify.h"
#include "genrescope/sliding.h"
#include "genrescope/outfile.h"
#include "genrescope/verdict.h"
#include "genrescope/embedding.h"

#define GENRESCOPE_VERSION "0.1.0"

#endif
