#ifndef FLUXTEL_CZLIB_SHIM_H
#define FLUXTEL_CZLIB_SHIM_H
#include <zlib.h>
#endif
