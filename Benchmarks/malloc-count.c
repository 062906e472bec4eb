/* A counting allocator for the benchmark's allocation check (Benchmarks/allocations).
 *
 * Preloaded into a program, it counts the calls of malloc, calloc, realloc, free,
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc (the Swift runtime's
 * swift_slowAlloc and C++ operator new end in one of them), hands each call on to glibc's own
 * allocator (__libc_malloc and friends, so no dlsym and no recursion while it resolves), and
 * at exit writes one line of counts:
 *
 *   malloc N calloc N realloc N free N memalign N total N bytes N
 *
 * where total is every allocating call (realloc included; free excluded) and bytes the sum of
 * the sizes asked for. The line goes to the file named by MALLOC_COUNT_OUTPUT (appended), else
 * to standard error.
 *
 * Build: cc -O2 -shared -fPIC -o malloc-count.so malloc-count.c
 * Use:   MALLOC_COUNT_OUTPUT=counts.txt LD_PRELOAD=./malloc-count.so PROGRAM ARGS...
 *
 * MALLOC_COUNT_BACKTRACE_EVERY=N (N > 0) also writes, for every Nth allocating call after the
 * first MALLOC_COUNT_BACKTRACE_SKIP calls (default 0), the return addresses of its stack to the
 * output as "bt ADDR ADDR ..." lines, and at exit the program's executable mappings as "map"
 * lines (from /proc/self/maps), for finding where allocations come from: `Benchmarks/allocations
 * --where` resolves them with addr2line. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <execinfo.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static atomic_ullong n_malloc, n_calloc, n_realloc, n_free, n_memalign, n_bytes, n_calls;
static unsigned long long bt_every, bt_skip;
static int out_fd = 2;
static int configured;
static __thread int in_backtrace;

static void write_all(const char *buffer, size_t length) {
    while (length > 0) {
        ssize_t n = write(out_fd, buffer, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        buffer += n;
        length -= (size_t)n;
    }
}

__attribute__((constructor)) static void configure(void) {
    const char *path = getenv("MALLOC_COUNT_OUTPUT");
    if (path != NULL && *path != '\0') {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) out_fd = fd;
    }
    const char *every = getenv("MALLOC_COUNT_BACKTRACE_EVERY");
    if (every != NULL) bt_every = strtoull(every, NULL, 10);
    const char *skip = getenv("MALLOC_COUNT_BACKTRACE_SKIP");
    if (skip != NULL) bt_skip = strtoull(skip, NULL, 10);
    if (bt_every != 0) {
        void *frames[4];
        in_backtrace = 1;
        backtrace(frames, 4);
        in_backtrace = 0;
    }
    configured = 1;
}

/* Appends the decimal or hex form of value to buffer at *at. */
static void put_number(char *buffer, size_t *at, unsigned long long value, int hex) {
    char digits[24];
    int n = 0;
    unsigned base = hex ? 16 : 10;
    do {
        unsigned d = (unsigned)(value % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        value /= base;
    } while (value != 0);
    if (hex) { buffer[(*at)++] = '0'; buffer[(*at)++] = 'x'; }
    while (n > 0) buffer[(*at)++] = digits[--n];
}

/* Writes the return addresses of the current stack (glibc's backtrace, which unwinds with the
 * binaries' unwind tables; primed in configure so that it loads its unwinder before it is needed,
 * and kept from recursing by in_backtrace). */
__attribute__((noinline)) static void backtrace_line(void) {
    void *frames[32];
    char line[32 * 20 + 8];
    size_t at = 2;
    in_backtrace = 1;
    int depth = backtrace(frames, 32);
    in_backtrace = 0;
    memcpy(line, "bt", 2);
    for (int i = 1; i < depth; i++) {  /* frame 0 is backtrace_line's caller, counted() */
        line[at++] = ' ';
        put_number(line, &at, (unsigned long long)(uintptr_t)frames[i], 1);
    }
    line[at++] = '\n';
    write_all(line, at);
}

static inline void counted(atomic_ullong *counter, size_t size) {
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&n_bytes, size, memory_order_relaxed);
    unsigned long long call = atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
    if (bt_every != 0 && configured && !in_backtrace && call >= bt_skip && (call - bt_skip) % bt_every == 0) backtrace_line();
}

void *malloc(size_t size) {
    counted(&n_malloc, size);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    counted(&n_calloc, count * size);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    counted(&n_realloc, size);
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    if (pointer != NULL) atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
    __libc_free(pointer);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    counted(&n_memalign, size);
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    counted(&n_memalign, size);
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    counted(&n_memalign, size);
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
    counted(&n_memalign, size);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    counted(&n_memalign, size);
    return __libc_memalign(page, (size + page - 1) / page * page);
}

/* Copies the executable mappings of /proc/self/maps to the output as "map" lines. */
static void write_maps(void) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    static char buffer[1 << 16];
    char line[4096];
    size_t length = 0;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (length < sizeof line - 1) line[length++] = buffer[i];
            if (buffer[i] != '\n') continue;
            /* "start-end perms offset dev inode path": keep the executable ones. */
            char *perms = memchr(line, ' ', length);
            if (perms != NULL && perms + 3 < line + length && perms[3] == 'x') {
                write_all("map ", 4);
                write_all(line, length);
            }
            length = 0;
        }
    }
    close(fd);
}

__attribute__((destructor)) static void report(void) {
    char line[256];
    size_t at = 0;
    const struct { const char *name; atomic_ullong *value; } fields[] = {
        {"malloc", &n_malloc}, {"calloc", &n_calloc}, {"realloc", &n_realloc}, {"free", &n_free},
        {"memalign", &n_memalign},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        size_t length = strlen(fields[i].name);
        if (at) line[at++] = ' ';
        memcpy(line + at, fields[i].name, length);
        at += length;
        line[at++] = ' ';
        put_number(line, &at, atomic_load(fields[i].value), 0);
    }
    unsigned long long total = atomic_load(&n_malloc) + atomic_load(&n_calloc) + atomic_load(&n_realloc) + atomic_load(&n_memalign);
    memcpy(line + at, " total ", 7);
    at += 7;
    put_number(line, &at, total, 0);
    memcpy(line + at, " bytes ", 7);
    at += 7;
    put_number(line, &at, atomic_load(&n_bytes), 0);
    line[at++] = '\n';
    write_all(line, at);
    if (bt_every != 0) write_maps();
}
