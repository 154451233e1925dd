/**
 * glibc's allocator settings for the server process. glibc reads them at process start, so they go
 * in its environment: `npm start` sets each one not already set, the Dockerfile's ENV sets them
 * (test/config/allocator-settings.test.ts holds both to this list), and the bench gives them to
 * every server it starts. Other systems' allocators ignore them.
 * - Two arenas, and blocks of 4 MiB or more (argon2id's 19 MiB per hash) always mapped and
 *   returned at free: glibc otherwise keeps each libuv thread's blocks (idle RSS after the bench's
 *   loads 198 MB instead of 111–117 MB).
 * - Those mappings in transparent huge pages where the kernel gives them on request (THP "madvise"
 *   or "always"): a hash then costs a few hundred page faults instead of about 4,900, and on one
 *   core, 8 in flight, 27–29 ms of CPU instead of 35–42 ms (22–29 ms with glibc's defaults, which
 *   keep the blocks). BENCHMARKS.md, 2026-12-04.
 */
export const ALLOCATOR_SETTINGS = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '4194304',
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
} as const;
