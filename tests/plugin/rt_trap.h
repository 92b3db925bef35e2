/* Traps real-time-unsafe calls made by the current thread while armed:
 * allocation (malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
 * memalign, valloc), locks and waits (pthread mutex/cond/rwlock, sem_wait),
 * file and console I/O (fopen, open, read, write, fwrite, fputs, puts,
 * printf, fprintf, vfprintf, fflush), mmap/munmap and sleeping. The
 * executable defines these symbols, so calls from a dlopen()ed plugin bind
 * to them (symbol interposition) and are counted before being forwarded to
 * the C library. Under AddressSanitizer, which owns malloc, the allocator
 * is watched through the sanitizer's malloc/free hooks instead. */
#ifndef GS_TEST_RT_TRAP_H
#define GS_TEST_RT_TRAP_H

void gs_rt_trap_arm(int on);
/* Trapped calls so far, and the name of the first one ("" if none). */
unsigned long gs_rt_trap_count(void);
const char *gs_rt_trap_first(void);
/* Of those, the allocation and mmap/munmap calls only, and the first one. */
unsigned long gs_rt_trap_memory_count(void);
const char *gs_rt_trap_memory_first(void);
void gs_rt_trap_clear(void);

#endif
