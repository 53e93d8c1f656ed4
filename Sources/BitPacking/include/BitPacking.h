#ifndef BIT_PACKING_H
#define BIT_PACKING_H

#include <stddef.h>
#include <stdint.h>

/// Blocks of 16 unsigned values at `width` bits each (0 to 64), the bits of
/// one value after another from the lowest bit of the block's first byte:
/// a whole block takes 2·width bytes, a last block of `count` < 16 values
/// (count·width + 7) / 8. PackedInt64s (Wire) builds its frames of them.

/// The bytes of a block of `count` values at `width` bits.
static inline size_t bit_packing_block_bytes(size_t count, int width) {
    return (count * (size_t)width + 7) / 8;
}

/// The bits that hold every one of `count` (at most 16) values.
int bit_packing_width(const uint64_t *values, size_t count);

/// Writes `count` (1 to 16) values, each below 2^width, as one block at
/// `target`, which has `room` bytes: the block's
/// bit_packing_block_bytes(count, width), and up to 7 zeros after them
/// where `room` allows (the next block's start, which it then overwrites).
void bit_packing_pack(const uint64_t *values, size_t count, int width, uint8_t *target, size_t room);

/// Reads one block of `count` (1 to 16) values at `width` bits from
/// `source`, which has `room` readable bytes, at least the block's.
void bit_packing_unpack(const uint8_t *source, size_t count, int width, uint64_t *values, size_t room);

/// A frame of `count` Int64s (PackedInt64s' layout), each zigzagged
/// (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), at `frame`, which has `room`
/// bytes, at least the largest such frame; returns the frame's size.
size_t bit_packing_pack_int64s(const int64_t *values, size_t count, uint8_t *frame, size_t room);

/// The same frame of each weight's step from `previous` to `values`: the
/// difference of the Floats' bits read as integers in the Floats' order
/// (-0.0 as -1), exact for every bit pattern.
size_t bit_packing_pack_weight_steps(const float *values, const float *previous, size_t count, uint8_t *frame, size_t room);

/// Adds a checked frame's `count` values onto `sum` (or stores them, with `overwrite`).
void bit_packing_unpack_int64s(const uint8_t *frame, size_t frame_bytes, int64_t *sum, size_t count, int overwrite);

/// Steps `weights`, the `previous` of bit_packing_pack_weight_steps, to the values of a checked frame.
void bit_packing_unpack_weight_steps(const uint8_t *frame, size_t frame_bytes, float *weights, size_t count);

#endif
