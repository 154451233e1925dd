/**
 * glibc's allocator settings for the server process, read by glibc at process start, so they are
 * set in its environment: by `npm start` (each unless already set) and the Dockerfile's ENV, both
 * held to this list by test/config/allocator-settings.test.ts, and for every server the bench
 * starts. Other systems' allocators ignore them. Two arenas, and blocks
 * of 4 MiB or more (argon2id's 19 MiB per hash) always mapped and returned at free, keep idle RSS
 * low: glibc otherwise keeps each libuv thread's blocks (after concurrent logins about 230 MB
 * instead of 145 MB). Those fresh mappings go into transparent huge pages where the kernel gives
 * them on request (THP "madvise" or "always"), so a hash costs a few hundred page faults instead
 * of about 4,900: on one core, 8 in flight, 27–29 ms a verification instead of 35–42 ms (22–29 ms
 * with glibc's defaults, which keep the blocks; BENCHMARKS.md, 2026-12-04).
 */
export const ALLOCATOR_SETTINGS = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '4194304',
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
} as const;
