#ifndef FLUXTEL_CZLIBREF_H
#define FLUXTEL_CZLIBREF_H
#include <stddef.h>
#include <stdint.h>

/// zlib's own speed: a deflate stream set up exactly like Compression.GzipCompressor
/// (deflateInit2, windowBits 31 = gzip, memLevel 8, Z_DEFAULT_STRATEGY), reused with deflateReset,
/// writing into a caller-owned buffer of deflateBound bytes. No Swift involved.
typedef struct fluxtel_zref fluxtel_zref;

fluxtel_zref *fluxtel_zref_new(int level);
void fluxtel_zref_free(fluxtel_zref *z);
/// Upper bound for the compressed size of `len` input bytes.
size_t fluxtel_zref_bound(fluxtel_zref *z, size_t len);
/// Compresses `in` into `out` (capacity `cap`) as one gzip member; returns the compressed size, 0 on error.
size_t fluxtel_zref_gzip(fluxtel_zref *z, const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/// One-shot compress2 (zlib format, fresh stream each call: what Python's zlib.compress does).
size_t fluxtel_zref_compress2(int level, const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/// The zlib version linked at run time.
const char *fluxtel_zref_version(void);

#endif
