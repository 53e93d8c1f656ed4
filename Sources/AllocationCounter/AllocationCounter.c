// Counts heap allocations of a whole process, for scripts/bench.sh's
// allocations_per_step figures. Loaded with LD_PRELOAD, it stands in front of
// glibc's malloc family, counts every call, and forwards it to glibc's own
// entry points (__libc_*), which unlike dlsym(RTLD_NEXT) never allocate, so
// nothing recurses during start-up.
//
// At exit it appends one line to the file named by ALLOCATION_COUNTER_FILE:
//   pid=PID allocations=N libzmq_allocations=Z peak_rss_kb=VmHWM
// N counts every call; Z the part libzmq made itself (called from its code,
// directly or through C++'s operator new), which a program cannot avoid
// through libzmq's API: it copies every received message over 8 KB, and
// every header over 33 bytes it is given, into buffers of its own.
// A process that exec()s (dptrain does once, to pin its BLAS kernels) never
// reaches exit in its old image, so only the final image of a pid reports.
// glibc only: it relies on the __libc_* aliases.
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <stdint.h>
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

static atomic_ulong libzmqAllocations;

// libzmq's code, found once its library is mapped (it is, before any
// initialiser runs, when the program links it).
static uintptr_t libzmqStart, libzmqEnd;

static int findLibzmq(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size; (void)unused;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "libzmq.so") == NULL) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_X)) continue;
        libzmqStart = info->dlpi_addr + segment->p_vaddr;
        libzmqEnd = libzmqStart + segment->p_memsz;
        return 1;
    }
    return 0;
}

__attribute__((constructor)) static void locateLibzmq(void) { dl_iterate_phdr(findLibzmq, NULL); }

static inline void counted(void *caller) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    uintptr_t address = (uintptr_t)caller;
    if (address >= libzmqStart && address < libzmqEnd) {
        atomic_fetch_add_explicit(&libzmqAllocations, 1, memory_order_relaxed);
    }
}

#define CALLER __builtin_return_address(0)

void *malloc(size_t size) { counted(CALLER); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { counted(CALLER); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { counted(CALLER); return __libc_realloc(pointer, size); }

// C++'s operator new, so that libzmq's `new` is attributed to libzmq rather
// than to libstdc++. Failure handling as the standard asks: throwing forms
// abort (nothing here can throw), nothrow forms return NULL.
void *_Znwm(size_t size) { counted(CALLER); void *p = __libc_malloc(size ? size : 1); if (!p) abort(); return p; }
void *_Znam(size_t size) { counted(CALLER); void *p = __libc_malloc(size ? size : 1); if (!p) abort(); return p; }
void *_ZnwmRKSt9nothrow_t(size_t size, const void *tag) { (void)tag; counted(CALLER); return __libc_malloc(size ? size : 1); }
void *_ZnamRKSt9nothrow_t(size_t size, const void *tag) { (void)tag; counted(CALLER); return __libc_malloc(size ? size : 1); }
void *memalign(size_t alignment, size_t size) { counted(CALLER); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { counted(CALLER); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { counted(CALLER); return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    counted(CALLER);
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
    char line[160];
    int length = snprintf(line, sizeof line, "pid=%ld allocations=%lu libzmq_allocations=%lu peak_rss_kb=%ld\n",
                          (long)getpid(), atomic_load(&allocations), atomic_load(&libzmqAllocations),
                          peakResidentKilobytes());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    // One write(2) in append mode, so reports of several processes never interleave.
    (void)!write(fd, line, (size_t)length);
    close(fd);
}
