#ifndef SHARED_MEMORY_SYNC_H
#define SHARED_MEMORY_SYNC_H

#include <stdint.h>

// What two processes sharing a mapping need and Swift cannot say: atomic
// loads and stores on words inside the mapping, and the kernel's futex to
// sleep until a word changes. Every operation is sequentially consistent:
// a store that publishes data is seen after the data, and a waiter that
// announces itself and then re-reads cannot miss a wake.

uint64_t shm_load64(const uint64_t *word);
void shm_store64(uint64_t *word, uint64_t value);
uint32_t shm_load32(const uint32_t *word);
void shm_store32(uint32_t *word, uint32_t value);
/// Adds and returns the new value.
uint32_t shm_add32(uint32_t *word, uint32_t value);

/// Sleeps while *word == expected, at most timeout_ns; a wake, a change of
/// the word, a signal or the timeout ends it (the caller re-checks).
void shm_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/// Wakes every process sleeping on word.
void shm_futex_wake(uint32_t *word);
/// A hint to the core that this is a spin loop.
void shm_cpu_relax(void);

#endif
