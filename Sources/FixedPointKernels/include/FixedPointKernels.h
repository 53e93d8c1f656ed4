#ifndef FIXED_POINT_KERNELS_H
#define FIXED_POINT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Builds of the kernels for wider vectors; each gives the same bits.
enum {
    FIXED_POINT_BASELINE = 0,  // the platform's baseline (SSE2 on x86-64)
    FIXED_POINT_AVX2 = 1,
    FIXED_POINT_AVX512 = 2,
};

/// The widest build this CPU can run.
int fixed_point_best_level(void);

/// Rounds each of `count` Floats of `gradient`, times 2^32, to the nearest
/// integer (ties to even), clamped to ±2^51, and adds it to `sum`, or
/// stores it there when `overwrite` is non-zero. Returns 1 when every value
/// was finite, 0 when any was NaN or an infinity. `level` must not exceed
/// fixed_point_best_level().
int fixed_point_round_add(int level, const float *gradient, int64_t *sum, size_t count, int overwrite);

/// mean[i] = Float(Double(sum[i]) / divisor), where Double(sum[i]) is the
/// Int64 rounded once.
void fixed_point_average(int level, const int64_t *sum, float *mean, size_t count, double divisor);

#endif
