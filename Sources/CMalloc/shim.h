// glibc's malloc tuning (mallopt, M_* parameters): not part of Swift's Glibc module.
#include <malloc.h>
