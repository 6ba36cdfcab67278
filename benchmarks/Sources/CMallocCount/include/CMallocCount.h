#ifndef FLUXTEL_CMALLOCCOUNT_H
#define FLUXTEL_CMALLOCCOUNT_H
#include <stdint.h>

/// Number of allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
/// made by the whole process since start. Relaxed atomic counter: read it before and after a loop.
uint64_t fluxtel_malloc_count(void);
/// Number of free calls with a non-NULL pointer.
uint64_t fluxtel_free_count(void);
/// 1 once the interposer has seen at least one call (i.e. it is really linked in front of libc).
int fluxtel_malloc_interposed(void);

#endif
