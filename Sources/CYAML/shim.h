#ifndef FLUXTEL_CYAML_SHIM_H
#define FLUXTEL_CYAML_SHIM_H
#include <yaml.h>
#endif
