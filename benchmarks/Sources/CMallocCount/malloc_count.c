// A minimal malloc interposer for glibc: the executable defines malloc & co., so the dynamic
// linker resolves every call (from Swift's runtime, Foundation, zlib, ...) to these, and they
// forward to glibc's real implementation through its exported __libc_* entry points.
// Only counts; never changes allocation behaviour.
#include "CMallocCount.h"
#include <stddef.h>
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static uint64_t allocs;
static uint64_t frees;

#define BUMP(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

void *malloc(size_t n) { BUMP(allocs); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { BUMP(allocs); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { BUMP(allocs); return __libc_realloc(p, n); }
void free(void *p) { if (p) BUMP(frees); __libc_free(p); }
void *memalign(size_t al, size_t n) { BUMP(allocs); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { BUMP(allocs); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    BUMP(allocs);
    void *p = __libc_memalign(al, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

uint64_t fluxtel_malloc_count(void) { return __atomic_load_n(&allocs, __ATOMIC_RELAXED); }
uint64_t fluxtel_free_count(void) { return __atomic_load_n(&frees, __ATOMIC_RELAXED); }
int fluxtel_malloc_interposed(void) { return fluxtel_malloc_count() > 0; }
