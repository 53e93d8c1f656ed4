// The two loops that turn Float gradients into exact fixed-point sums and
// back, which were a third of a `train` step. They are in C for one reason:
// Swift compiles a module for one instruction set (x86-64's baseline, SSE2:
// two Doubles a vector) and cannot build one function for several and pick
// at run time. Here each loop is built for AVX-512, AVX2 and the baseline.
// Every build performs the same exactly rounded IEEE operations, so all give
// the same bits; FixedPointTests runs each build this CPU has against a
// reference written in Swift.

#include "FixedPointKernels.h"
#include <math.h>
#include <string.h>

// A fused multiply-add rounds once where two operations round twice. Every
// product below is exact, so it would not matter, but no build should
// depend on that.
#pragma clang fp contract(off)

// 1.5 * 2^52: Doubles in [2^52, 2^53) are spaced exactly 1 apart, so adding
// it to |x| <= 2^51 leaves round-to-nearest-even(x) in the low mantissa bits,
// and subtracting its bit pattern yields the integer. Float -> Int64 and
// Int64 -> Double have no vector instructions below AVX-512DQ; this needs none.
static const double magic = 6755399441055744.0;
static const double clamp_limit = 2251799813685248.0;  // 2^51
static const double grid = 4294967296.0;               // 2^32

static inline int64_t bits_of(double value) {
    int64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline double double_of(int64_t bits) {
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// An integer OR is associative, so unlike a Float test it keeps the loop
// vectorised: NaN and infinities have an all-ones exponent.
static inline uint32_t non_finite(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return (bits & 0x7F800000u) == 0x7F800000u;
}

static inline int64_t on_grid(float value) {
    // Float -> Double and the scaling by a power of two are exact.
    double scaled = (double)value * grid;
    scaled = scaled > clamp_limit ? clamp_limit : (scaled < -clamp_limit ? -clamp_limit : scaled);
    return bits_of(scaled + magic) - bits_of(magic);
}

__attribute__((always_inline)) static inline int round_add(
    const float *restrict gradient, int64_t *restrict sum, size_t count, int overwrite) {
    uint32_t flags = 0;
    if (overwrite) {
        for (size_t i = 0; i < count; i++) {
            flags |= non_finite(gradient[i]);
            sum[i] = on_grid(gradient[i]);
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            flags |= non_finite(gradient[i]);
            // Unsigned, so that even an impossible overflow wraps as Swift's &+ does.
            sum[i] = (int64_t)((uint64_t)sum[i] + (uint64_t)on_grid(gradient[i]));
        }
    }
    return flags == 0;
}

static inline double exact_double(int64_t n) {
    // Each half is converted exactly with the magic constant; their
    // recombination rounds once, giving exactly Double(n).
    const int64_t magic_bits = bits_of(magic);
    double high = double_of((n >> 32) + magic_bits) - magic;
    double low = double_of((n & 0xFFFFFFFF) + magic_bits) - magic;
    return high * grid + low;
}

// Division costs 16 cycles a vector of 8 Doubles, a third of a step's
// averaging. When the divisor is a power of two (a batch of 128 is),
// multiplying by its inverse is exact too, so gives the same bits.
__attribute__((always_inline)) static inline void average(
    const int64_t *restrict sum, float *restrict mean, size_t count, double divisor) {
    int exponent;
    if (frexp(divisor, &exponent) == 0.5) {
        const double inverse = 1.0 / divisor;
        for (size_t i = 0; i < count; i++) mean[i] = (float)(exact_double(sum[i]) * inverse);
    } else {
        for (size_t i = 0; i < count; i++) mean[i] = (float)(exact_double(sum[i]) / divisor);
    }
}

#if defined(__x86_64__)
#define BUILD_FOR(features) __attribute__((target(features))) static
BUILD_FOR("avx2") int round_add_avx2(const float *g, int64_t *s, size_t n, int o) {
    return round_add(g, s, n, o);
}
BUILD_FOR("avx512f") int round_add_avx512(const float *g, int64_t *s, size_t n, int o) {
    return round_add(g, s, n, o);
}
BUILD_FOR("avx2") void average_avx2(const int64_t *s, float *m, size_t n, double d) {
    average(s, m, n, d);
}
BUILD_FOR("avx512f") void average_avx512(const int64_t *s, float *m, size_t n, double d) {
    average(s, m, n, d);
}

int fixed_point_best_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return FIXED_POINT_AVX512;
    if (__builtin_cpu_supports("avx2")) return FIXED_POINT_AVX2;
    return FIXED_POINT_BASELINE;
}

int fixed_point_round_add(int level, const float *gradient, int64_t *sum, size_t count, int overwrite) {
    switch (level) {
    case FIXED_POINT_AVX512: return round_add_avx512(gradient, sum, count, overwrite);
    case FIXED_POINT_AVX2: return round_add_avx2(gradient, sum, count, overwrite);
    default: return round_add(gradient, sum, count, overwrite);
    }
}

void fixed_point_average(int level, const int64_t *sum, float *mean, size_t count, double divisor) {
    switch (level) {
    case FIXED_POINT_AVX512: average_avx512(sum, mean, count, divisor); break;
    case FIXED_POINT_AVX2: average_avx2(sum, mean, count, divisor); break;
    default: average(sum, mean, count, divisor);
    }
}
#else
int fixed_point_best_level(void) { return FIXED_POINT_BASELINE; }

int fixed_point_round_add(int level, const float *gradient, int64_t *sum, size_t count, int overwrite) {
    (void)level;
    return round_add(gradient, sum, count, overwrite);
}

void fixed_point_average(int level, const int64_t *sum, float *mean, size_t count, double divisor) {
    (void)level;
    average(sum, mean, count, divisor);
}
#endif
