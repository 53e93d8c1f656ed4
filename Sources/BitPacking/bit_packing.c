// Bit packing of blocks of 16 values, in C for one reason: a block's code
// is fastest written once per width, the width a constant the compiler
// folds into every shift and mask. A generic loop that shifts by a width
// held in a register ran 5-10 times slower (2-3 ms for a 784-512-256-10
// gradient, where a step computes in about 3 ms).

#include "BitPacking.h"
#include <string.h>

// The bytes of a block of `count` values at `width` bits.
static inline size_t block_bytes(size_t count, int width) { return (count * (size_t)width + 7) / 8; }

// A block of 16 at width W is 16·W bits, W/4 words and a quarter-word's
// multiple: built in a local buffer of whole words, copied out by the byte.
#define BLOCK_WORDS 17

static inline void store64(uint8_t *target, uint64_t value) { memcpy(target, &value, 8); }
static inline uint64_t load64(const uint8_t *source) {
    uint64_t value;
    memcpy(&value, source, 8);
    return value;
}

// Kernels read and write whole 8-byte words, unaligned: the caller sees
// that each word is inside the frame, or stages the block (below).
#define DEFINE_WIDTH(W)                                                          \
    static void pack_##W(const uint64_t *restrict in, uint8_t *restrict out) {   \
        unsigned __int128 acc = 0;                                               \
        int bits = 0, word = 0;                                                  \
        _Pragma("clang loop unroll(full)")                                       \
        for (int i = 0; i < 16; i++) {                                           \
            acc |= (unsigned __int128)in[i] << bits;                             \
            bits += W;                                                           \
            if (bits >= 64) {                                                    \
                store64(out + 8 * word++, (uint64_t)acc);                        \
                acc >>= 64;                                                      \
                bits -= 64;                                                      \
            }                                                                    \
        }                                                                        \
        if (bits > 0) store64(out + 8 * word, (uint64_t)acc);                    \
    }                                                                            \
    static void unpack_##W(const uint8_t *restrict in, uint64_t *restrict out) { \
        const uint64_t mask = W == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (W & 63)) - 1); \
        _Pragma("clang loop unroll(full)")                                       \
        for (int i = 0; i < 16; i++) {                                           \
            const int bit = i * W, word = bit / 64, shift = bit % 64;            \
            unsigned __int128 pair = load64(in + 8 * word);                      \
            if (shift + W > 64) pair |= (unsigned __int128)load64(in + 8 * word + 8) << 64; \
            out[i] = (uint64_t)(pair >> shift) & mask;                           \
        }                                                                        \
    }

DEFINE_WIDTH(1) DEFINE_WIDTH(2) DEFINE_WIDTH(3) DEFINE_WIDTH(4) DEFINE_WIDTH(5) DEFINE_WIDTH(6)
DEFINE_WIDTH(7) DEFINE_WIDTH(8) DEFINE_WIDTH(9) DEFINE_WIDTH(10) DEFINE_WIDTH(11) DEFINE_WIDTH(12)
DEFINE_WIDTH(13) DEFINE_WIDTH(14) DEFINE_WIDTH(15) DEFINE_WIDTH(16) DEFINE_WIDTH(17) DEFINE_WIDTH(18)
DEFINE_WIDTH(19) DEFINE_WIDTH(20) DEFINE_WIDTH(21) DEFINE_WIDTH(22) DEFINE_WIDTH(23) DEFINE_WIDTH(24)
DEFINE_WIDTH(25) DEFINE_WIDTH(26) DEFINE_WIDTH(27) DEFINE_WIDTH(28) DEFINE_WIDTH(29) DEFINE_WIDTH(30)
DEFINE_WIDTH(31) DEFINE_WIDTH(32) DEFINE_WIDTH(33) DEFINE_WIDTH(34) DEFINE_WIDTH(35) DEFINE_WIDTH(36)
DEFINE_WIDTH(37) DEFINE_WIDTH(38) DEFINE_WIDTH(39) DEFINE_WIDTH(40) DEFINE_WIDTH(41) DEFINE_WIDTH(42)
DEFINE_WIDTH(43) DEFINE_WIDTH(44) DEFINE_WIDTH(45) DEFINE_WIDTH(46) DEFINE_WIDTH(47) DEFINE_WIDTH(48)
DEFINE_WIDTH(49) DEFINE_WIDTH(50) DEFINE_WIDTH(51) DEFINE_WIDTH(52) DEFINE_WIDTH(53) DEFINE_WIDTH(54)
DEFINE_WIDTH(55) DEFINE_WIDTH(56) DEFINE_WIDTH(57) DEFINE_WIDTH(58) DEFINE_WIDTH(59) DEFINE_WIDTH(60)
DEFINE_WIDTH(61) DEFINE_WIDTH(62) DEFINE_WIDTH(63) DEFINE_WIDTH(64)

typedef void (*pack_kernel)(const uint64_t *restrict, uint8_t *restrict);
typedef void (*unpack_kernel)(const uint8_t *restrict, uint64_t *restrict);
#define ROW(f) f##_1, f##_2, f##_3, f##_4, f##_5, f##_6, f##_7, f##_8, f##_9, f##_10, f##_11, f##_12, \
    f##_13, f##_14, f##_15, f##_16, f##_17, f##_18, f##_19, f##_20, f##_21, f##_22, f##_23, f##_24,    \
    f##_25, f##_26, f##_27, f##_28, f##_29, f##_30, f##_31, f##_32, f##_33, f##_34, f##_35, f##_36,    \
    f##_37, f##_38, f##_39, f##_40, f##_41, f##_42, f##_43, f##_44, f##_45, f##_46, f##_47, f##_48,    \
    f##_49, f##_50, f##_51, f##_52, f##_53, f##_54, f##_55, f##_56, f##_57, f##_58, f##_59, f##_60,    \
    f##_61, f##_62, f##_63, f##_64
static const pack_kernel packers[65] = {0, ROW(pack)};
static const unpack_kernel unpackers[65] = {0, ROW(unpack)};

// A whole block's words go straight to the frame when it has room for
// them: the last word's bytes past the block are zeros there, and the next
// block writes over them. Otherwise (the frame's end, a short last block)
// the block is built in a local buffer and copied out by the byte.
static void pack_block(const uint64_t *values, size_t count, int width, uint8_t *target, size_t room) {
    if (width == 0) return;
    size_t bytes = block_bytes(count, width);
    if (count == 16 && room >= (bytes + 7) / 8 * 8) {
        packers[width](values, target);
        return;
    }
    uint64_t padded[16] = {0}, words[BLOCK_WORDS];
    memcpy(padded, values, count * sizeof *values);
    packers[width](padded, (uint8_t *)words);
    memcpy(target, words, bytes);
}

// Reads whole words where the frame has them: the bits past the block's
// own belong to the next block, and no value's mask reaches them.
static void unpack_block(const uint8_t *source, size_t count, int width, uint64_t *values, size_t room) {
    if (width == 0) {
        memset(values, 0, count * sizeof *values);
        return;
    }
    size_t bytes = block_bytes(count, width);
    if (count == 16 && room >= (bytes + 7) / 8 * 8) {
        unpackers[width](source, values);
        return;
    }
    uint64_t words[BLOCK_WORDS] = {0}, all[16];
    memcpy(words, source, bytes);
    unpackers[width]((const uint8_t *)words, all);
    memcpy(values, all, count * sizeof *values);
}

// --- Frames: one width byte per block, padded to 8, then the blocks, then
// zeros to a multiple of 8 (PackedInt64s in Wire documents and checks them).

// Written with a logical shift, so that SSE2, which has no 64-bit arithmetic
// shift, still runs it two lanes at a time.
static inline uint64_t zigzag(int64_t value) { return ((uint64_t)value << 1) ^ (0 - ((uint64_t)value >> 63)); }
static inline int64_t unzigzag(uint64_t bits) { return (int64_t)((bits >> 1) ^ (0 - (bits & 1))); }

// A Float's bits as an integer in the Floats' order; -0.0 is -1.
static inline int64_t ordered_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    int64_t negative = (int64_t)(int32_t)bits >> 31;
    return (int64_t)(bits & 0x7FFFFFFFu) ^ negative;
}

static inline float float_of_ordered_bits(int64_t ordered) {
    int64_t negative = ordered >> 63;
    uint32_t bits = (uint32_t)(ordered ^ negative) | ((uint32_t)negative & 0x80000000u);
    float value;
    memcpy(&value, &bits, 4);
    return value;
}

static inline size_t frame_header(size_t blocks) { return (blocks + 7) & ~(size_t)7; }

// Full blocks take a loop of a constant 16, which the compiler unrolls and
// vectorises; only the last block may be shorter.
#define PACK_FRAME(VALUE_AT)                                                      \
    size_t blocks = (count + 15) / 16, offset = frame_header(blocks);            \
    memset(frame + blocks, 0, offset - blocks);                                  \
    uint64_t block[16];                                                          \
    for (size_t index = 0; index < blocks; index++) {                            \
        size_t start = index * 16, length = count - start < 16 ? count - start : 16; \
        uint64_t any = 0;                                                        \
        if (length == 16) {                                                      \
            for (size_t i = 0; i < 16; i++) {                                    \
                block[i] = VALUE_AT(start + i);                                  \
                any |= block[i];                                                 \
            }                                                                    \
        } else {                                                                 \
            for (size_t i = 0; i < length; i++) {                                \
                block[i] = VALUE_AT(start + i);                                  \
                any |= block[i];                                                 \
            }                                                                    \
        }                                                                        \
        int width = any == 0 ? 0 : 64 - __builtin_clzll(any);                     \
        frame[index] = (uint8_t)width;                                           \
        pack_block(block, length, width, frame + offset, room - offset);   \
        offset += block_bytes(length, width);                        \
    }                                                                            \
    size_t size = (offset + 7) & ~(size_t)7;                                     \
    memset(frame + offset, 0, size - offset);                                    \
    return size;

size_t bit_packing_pack_int64s(const int64_t *values, size_t count, uint8_t *frame, size_t room) {
#define SUM_AT(i) zigzag(values[i])
    PACK_FRAME(SUM_AT)
#undef SUM_AT
}

size_t bit_packing_pack_weight_steps(const float *values, const float *previous, size_t count, uint8_t *frame, size_t room) {
#define STEP_AT(i) zigzag(ordered_bits(values[i]) - ordered_bits(previous[i]))
    PACK_FRAME(STEP_AT)
#undef STEP_AT
}

#define UNPACK_FRAME(USE)                                                         \
    size_t blocks = (count + 15) / 16, offset = frame_header(blocks);            \
    uint64_t block[16];                                                          \
    for (size_t index = 0; index < blocks; index++) {                            \
        size_t start = index * 16, length = count - start < 16 ? count - start : 16; \
        int width = frame[index];                                                \
        unpack_block(frame + offset, length, width, block, frame_bytes - offset); \
        if (length == 16) {                                                      \
            for (size_t i = 0; i < 16; i++) USE(start + i, block[i]);            \
        } else {                                                                 \
            for (size_t i = 0; i < length; i++) USE(start + i, block[i]);        \
        }                                                                        \
        offset += block_bytes(length, width);                        \
    }

void bit_packing_unpack_int64s(const uint8_t *frame, size_t frame_bytes, int64_t *sum, size_t count, int overwrite) {
#define STORE(i, bits) sum[i] = unzigzag(bits)
#define ADD(i, bits) sum[i] = (int64_t)((uint64_t)sum[i] + (uint64_t)unzigzag(bits))
    if (overwrite) {
        UNPACK_FRAME(STORE)
    } else {
        UNPACK_FRAME(ADD)
    }
#undef STORE
#undef ADD
}

void bit_packing_unpack_weight_steps(const uint8_t *frame, size_t frame_bytes, float *weights, size_t count) {
#define STEP(i, bits) weights[i] = float_of_ordered_bits((int64_t)((uint64_t)ordered_bits(weights[i]) + (uint64_t)unzigzag(bits)))
    UNPACK_FRAME(STEP)
#undef STEP
}
