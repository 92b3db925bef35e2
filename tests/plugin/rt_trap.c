/* See rt_trap.h. Each wrapper counts the call when the calling thread is
 * armed, then forwards to the next definition (the C library's). */
#include "rt_trap.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static _Thread_local int armed;
static atomic_ulong trapped;
static _Atomic(const char *) first_name;

static atomic_ulong trapped_memory;
static _Atomic(const char *) first_memory_name;

static int is_memory_call(const char *name)
{
    static const char *const names[] = {"malloc",        "calloc",   "realloc", "free", "posix_memalign",
                                        "aligned_alloc", "memalign", "valloc",  "mmap", "munmap"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static void note(const char *name)
{
    if (!armed)
        return;
    atomic_fetch_add(&trapped, 1);
    const char *expected = NULL;
    atomic_compare_exchange_strong(&first_name, &expected, name);
    if (is_memory_call(name)) {
        atomic_fetch_add(&trapped_memory, 1);
        expected = NULL;
        atomic_compare_exchange_strong(&first_memory_name, &expected, name);
    }
}

void gs_rt_trap_arm(int on)
{
    armed = on;
}
unsigned long gs_rt_trap_count(void)
{
    return atomic_load(&trapped);
}
const char *gs_rt_trap_first(void)
{
    const char *n = atomic_load(&first_name);
    return n ? n : "";
}
unsigned long gs_rt_trap_memory_count(void)
{
    return atomic_load(&trapped_memory);
}
const char *gs_rt_trap_memory_first(void)
{
    const char *n = atomic_load(&first_memory_name);
    return n ? n : "";
}
void gs_rt_trap_clear(void)
{
    atomic_store(&trapped, 0);
    atomic_store(&first_name, NULL);
    atomic_store(&trapped_memory, 0);
    atomic_store(&first_memory_name, NULL);
}

#define REAL(ret, name, params)                                                                                        \
    static ret(*real_##name) params;                                                                                   \
    static void resolve_##name(void)                                                                                   \
    {                                                                                                                  \
        if (!real_##name)                                                                                              \
            *(void **)&real_##name = dlsym(RTLD_NEXT, #name);                                                          \
    }

#if defined(__SANITIZE_ADDRESS__)
/* ASan owns the allocator: use its hooks rather than replacing malloc. */
/* From <sanitizer/allocator_interface.h>, which Debian's gcc does not ship. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    note("malloc");
}
static void on_free(const volatile void *p)
{
    (void)p;
    note("free");
}
__attribute__((constructor)) static void install_hooks(void)
{
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
/* dlsym() itself may allocate before the real allocator is known: serve
 * those few early requests from a static arena that is never freed. */
static _Alignas(16) unsigned char boot_arena[65536];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (boot_used + n > sizeof boot_arena)
        return NULL;
    void *p = boot_arena + boot_used;
    boot_used += n;
    return p; /* static storage: already zero */
}

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot_arena && (const unsigned char *)p < boot_arena + sizeof boot_arena;
}

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);

static void resolve_alloc(void)
{
    if (real_malloc || resolving)
        return;
    resolving = 1;
    *(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real_free = dlsym(RTLD_NEXT, "free");
    *(void **)&real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **)&real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    *(void **)&real_memalign = dlsym(RTLD_NEXT, "memalign");
    *(void **)&real_valloc = dlsym(RTLD_NEXT, "valloc");
    *(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
}

void *malloc(size_t n)
{
    resolve_alloc();
    if (!real_malloc)
        return boot_alloc(n);
    note("malloc");
    return real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    resolve_alloc();
    if (!real_calloc || resolving)
        return (size && n > SIZE_MAX / size) ? NULL : boot_alloc(n * size);
    note("calloc");
    return real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    resolve_alloc();
    note("realloc");
    if (p && is_boot(p)) {
        void *q = malloc(n);
        size_t avail = (size_t)(boot_arena + sizeof boot_arena - (unsigned char *)p);
        if (q)
            memcpy(q, p, n < avail ? n : avail);
        return q;
    }
    return real_realloc(p, n);
}

void free(void *p)
{
    if (!p || is_boot(p))
        return;
    resolve_alloc();
    note("free");
    real_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    resolve_alloc();
    note("posix_memalign");
    return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    resolve_alloc();
    note("aligned_alloc");
    return real_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
    resolve_alloc();
    note("memalign");
    return real_memalign(align, n);
}

void *valloc(size_t n)
{
    resolve_alloc();
    note("valloc");
    return real_valloc(n);
}
#endif

REAL(int, pthread_mutex_lock, (pthread_mutex_t *))
REAL(int, pthread_mutex_trylock, (pthread_mutex_t *))
REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *))
REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *))
REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))
REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *))
REAL(int, sem_wait, (sem_t *))
REAL(int, sem_timedwait, (sem_t *, const struct timespec *))
REAL(FILE *, fopen, (const char *, const char *))
REAL(FILE *, fopen64, (const char *, const char *))
REAL(int, open, (const char *, int, ...))
REAL(int, open64, (const char *, int, ...))
REAL(ssize_t, read, (int, void *, size_t))
REAL(ssize_t, write, (int, const void *, size_t))
REAL(size_t, fwrite, (const void *, size_t, size_t, FILE *))
REAL(int, fputs, (const char *, FILE *))
REAL(int, puts, (const char *))
REAL(int, vprintf, (const char *, va_list))
REAL(int, vfprintf, (FILE *, const char *, va_list))
REAL(int, fflush, (FILE *))
REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
REAL(int, munmap, (void *, size_t))
REAL(int, nanosleep, (const struct timespec *, struct timespec *))
REAL(int, usleep, (useconds_t))
REAL(unsigned, sleep, (unsigned))

#define WRAP(ret, name, params, args)                                                                                  \
    ret name params                                                                                                    \
    {                                                                                                                  \
        resolve_##name();                                                                                              \
        note(#name);                                                                                                   \
        return real_##name args;                                                                                       \
    }

WRAP(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))
WRAP(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m))
WRAP(int, pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l))
WRAP(int, pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l))
WRAP(int, pthread_cond_wait, (pthread_cond_t * c, pthread_mutex_t *m), (c, m))
WRAP(int, pthread_cond_timedwait, (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *t), (c, m, t))
WRAP(int, sem_wait, (sem_t * s), (s))
WRAP(int, sem_timedwait, (sem_t * s, const struct timespec *t), (s, t))
WRAP(FILE *, fopen, (const char *p, const char *m), (p, m))
WRAP(FILE *, fopen64, (const char *p, const char *m), (p, m))
WRAP(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
WRAP(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
WRAP(size_t, fwrite, (const void *b, size_t s, size_t n, FILE *f), (b, s, n, f))
WRAP(int, fputs, (const char *s, FILE *f), (s, f))
WRAP(int, puts, (const char *s), (s))
WRAP(int, vprintf, (const char *f, va_list ap), (f, ap))
WRAP(int, vfprintf, (FILE * s, const char *f, va_list ap), (s, f, ap))
WRAP(int, fflush, (FILE * f), (f))
WRAP(void *, mmap, (void *a, size_t n, int p, int fl, int fd, off_t o), (a, n, p, fl, fd, o))
WRAP(int, munmap, (void *a, size_t n), (a, n))
WRAP(int, nanosleep, (const struct timespec *a, struct timespec *b), (a, b))
WRAP(int, usleep, (useconds_t u), (u))
WRAP(unsigned, sleep, (unsigned s), (s))

int open(const char *path, int flags, ...)
{
    resolve_open();
    note("open");
    va_list ap;
    va_start(ap, flags);
    int mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
    va_end(ap);
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    resolve_open64();
    note("open64");
    va_list ap;
    va_start(ap, flags);
    int mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
    va_end(ap);
    return real_open64(path, flags, mode);
}

int printf(const char *fmt, ...)
{
    resolve_vprintf();
    note("printf");
    va_list ap;
    va_start(ap, fmt);
    int r = real_vprintf(fmt, ap);
    va_end(ap);
    return r;
}

int fprintf(FILE *f, const char *fmt, ...)
{
    resolve_vfprintf();
    note("fprintf");
    va_list ap;
    va_start(ap, fmt);
    int r = real_vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

/* Resolve everything up front, so the first trapped call does not run
 * dlsym() (which may allocate) inside an armed region. */
__attribute__((constructor)) static void resolve_all(void)
{
#if !defined(__SANITIZE_ADDRESS__)
    resolve_alloc();
#endif
    resolve_pthread_mutex_lock();
    resolve_pthread_mutex_trylock();
    resolve_pthread_rwlock_rdlock();
    resolve_pthread_rwlock_wrlock();
    resolve_pthread_cond_wait();
    resolve_pthread_cond_timedwait();
    resolve_sem_wait();
    resolve_sem_timedwait();
    resolve_fopen();
    resolve_fopen64();
    resolve_open();
    resolve_open64();
    resolve_read();
    resolve_write();
    resolve_fwrite();
    resolve_fputs();
    resolve_puts();
    resolve_vprintf();
    resolve_vfprintf();
    resolve_fflush();
    resolve_mmap();
    resolve_munmap();
    resolve_nanosleep();
    resolve_usleep();
    resolve_sleep();
}
