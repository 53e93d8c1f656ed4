// Counts heap allocations of a whole process, for scripts/bench.sh's
// allocations_per_step figures. Loaded with LD_PRELOAD, it stands in front of
// glibc's malloc family, counts every call, and forwards it to glibc's own
// entry points (__libc_*), which unlike dlsym(RTLD_NEXT) never allocate, so
// nothing recurses during start-up.
//
// At exit it appends one line to the file named by ALLOCATION_COUNTER_FILE:
//   pid=PID allocations=N peak_rss_kb=VmHWM
// A process that exec()s (dptrain does once, to pin its BLAS kernels) never
// reaches exit in its old image, so only the final image of a pid reports.
// glibc only: it relies on the __libc_* aliases.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

// Relaxed: the count is only read at exit, when every thread's increments
// have long been visible.
static atomic_ulong allocations;

static inline void counted(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t size) { counted(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { counted(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { counted(); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { counted(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { counted(); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { counted(); return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    counted();
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *out = pointer;
    return 0;
}

// The kernel's high-water mark of resident memory, in kB; -1 if unreadable.
// Plain read(2) and no stdio, so reporting itself does not allocate.
static long peakResidentKilobytes(void) {
    char buffer[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t length = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (length <= 0) return -1;
    buffer[length] = '\0';
    const char *line = strstr(buffer, "VmHWM:");
    return line ? strtol(line + 6, NULL, 10) : -1;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("ALLOCATION_COUNTER_FILE");
    if (path == NULL) return;
    char line[128];
    int length = snprintf(line, sizeof line, "pid=%ld allocations=%lu peak_rss_kb=%ld\n", (long)getpid(),
                          atomic_load(&allocations), peakResidentKilobytes());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    // One write(2) in append mode, so reports of several processes never interleave.
    (void)!write(fd, line, (size_t)length);
    close(fd);
}
