#ifndef FLOWAUDIT_CPREFETCH_H
#define FLOWAUDIT_CPREFETCH_H

#include <stdint.h>

/// Asks the CPU to bring the cache line at `base + offset` into the cache for a read soon.
/// A prefetch is a hint: it never faults and never reads into the program, whatever the
/// address, so a stale or wrong address costs a useless hint and nothing more.
static inline void flowaudit_prefetch_at(uintptr_t base, intptr_t offset) {
    __builtin_prefetch((const void *)(base + (uintptr_t)offset), 0, 3);
}

#endif
