#ifndef BIT_PACKING_H
#define BIT_PACKING_H

#include <stddef.h>
#include <stdint.h>

/// Frames of Int64s in blocks of 16 values at any bit width (0 to 64), the
/// bits of one value after another from the lowest bit of the block's first
/// byte: a whole block takes 2·width bytes, a last block of `count` < 16
/// values (count·width + 7) / 8. PackedInt64s (Wire) documents the frame
/// and checks it before any of these reads it.

/// A frame of `count` Int64s (PackedInt64s' layout), each zigzagged
/// (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), at `frame`, which has `room`
/// bytes, at least the frame's own; returns the frame's size. Whole words
/// go straight to the frame where `room` allows, so a larger room is faster.
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
