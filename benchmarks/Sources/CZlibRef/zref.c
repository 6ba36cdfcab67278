#include "CZlibRef.h"
#include <stdlib.h>
#include <zlib.h>

struct fluxtel_zref { z_stream s; int ok; };

fluxtel_zref *fluxtel_zref_new(int level) {
    fluxtel_zref *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->ok = deflateInit2(&z->s, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    return z;
}

void fluxtel_zref_free(fluxtel_zref *z) {
    if (!z) return;
    if (z->ok) deflateEnd(&z->s);
    free(z);
}

size_t fluxtel_zref_bound(fluxtel_zref *z, size_t len) { return deflateBound(&z->s, (uLong)len); }

size_t fluxtel_zref_gzip(fluxtel_zref *z, const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    if (!z->ok || deflateReset(&z->s) != Z_OK) return 0;
    z->s.next_in = (Bytef *)in;
    z->s.avail_in = (uInt)len;
    z->s.next_out = out;
    z->s.avail_out = (uInt)cap;
    int rc = deflate(&z->s, Z_FINISH);
    return rc == Z_STREAM_END ? (size_t)z->s.total_out : 0;
}

size_t fluxtel_zref_compress2(int level, const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    uLongf n = (uLongf)cap;
    return compress2(out, &n, in, (uLong)len, level) == Z_OK ? (size_t)n : 0;
}
const char *fluxtel_zref_version(void) { return zlibVersion(); }
