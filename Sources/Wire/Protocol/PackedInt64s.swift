import BitPacking

/// A compact frame for an array of Int64 whose values are mostly small, as
/// fixed-point gradient sums and the steps between a weight's old and new
/// bits are: the array is cut into blocks of 16, and each block is stored at
/// the fewest bits that hold all its values exactly, 0 (all zero) to 64.
/// A value is stored zigzagged (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), so a
/// small negative value takes as few bits as a small positive one.
///
/// Measured on 784-512-256-10 (Fashion-MNIST, batch 128): gradient sums
/// take 3.2-3.4 bytes a value (blocks of 256 at whole bytes took 3.7-3.8;
/// more bytes at width 16 paid for the width bytes), weight steps 2.5 bytes
/// where the Floats take 4.
///
/// Layout, little-endian: one width byte per block, padded with zeros to a
/// multiple of 8; then the blocks in order, each starting on a byte: its
/// values' bits one after another from the lowest bit of its first byte
/// (a whole block of width w is 2w bytes); then zeros to a multiple of 8.
public enum PackedInt64s {
    public static let blockLength = 16

    static func blockCount(_ count: Int) -> Int { (count + blockLength - 1) / blockLength }
    static func roundUp8(_ bytes: Int) -> Int { (bytes + 7) & ~7 }
    /// The bytes of a block of `length` values at `width` bits.
    @inline(__always)
    static func blockBytes(length: Int, width: Int) -> Int { (length * width + 7) / 8 }

    /// The size of a frame of `count` values whose every block is 64 bits wide: no frame is larger.
    public static func largestPackedSize(count: Int) -> Int {
        roundUp8(blockCount(count)) + roundUp8(count * 8)
    }

    @inline(__always)
    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value &<< 1) ^ (value >> 63)) }

    // MARK: - Packing

    /// The size of the frame of `values`.
    public static func measure(_ values: UnsafeBufferPointer<Int64>) -> Int {
        let blocks = blockCount(values.count)
        var bytes = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, values.count - start)
            var any: UInt64 = 0
            for i in start..<(start + length) { any |= zigzag(values[i]) }
            bytes += blockBytes(length: length, width: 64 - any.leadingZeroBitCount)
        }
        return roundUp8(bytes)
    }

    /// Packs `values` into `frame`, exactly as long as `measure` said.
    public static func pack(_ values: UnsafeBufferPointer<Int64>, intoFrameOfItsSize frame: UnsafeMutableRawBufferPointer) {
        guard !values.isEmpty else { return }
        let size = bit_packing_pack_int64s(values.baseAddress, values.count, bytes(frame), frame.count)
        precondition(size == frame.count, "a frame of \(frame.count) bytes for \(size)")
    }

    /// `measure` and `pack` in one pass over `values`: each block is measured
    /// and written while it is still in cache. `buffer` must hold
    /// `largestPackedSize(count:)` bytes; returns the bytes the frame takes
    /// (a prefix of `buffer`), the same bytes `measure` and `pack` write.
    public static func pack(_ values: UnsafeBufferPointer<Int64>, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= largestPackedSize(count: values.count), "packing buffer too small")
        guard !values.isEmpty else { return 0 }
        return bit_packing_pack_int64s(values.baseAddress, values.count, bytes(buffer), buffer.count)
    }

    /// Weights as the steps from `previous` to `values`: each Float's bits
    /// as an integer in the order of the Floats (-0.0 as -1, just below
    /// +0.0), and the difference of the two packed, so a small step takes
    /// few bits. Exact for every bit pattern (both zeros, infinities, NaNs);
    /// a receiver holding `previous` rebuilds `values` with
    /// `unpackWeightSteps`. `buffer` as for `pack`.
    public static func packWeightSteps(
        _ values: UnsafeBufferPointer<Float>, from previous: UnsafeBufferPointer<Float>,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(values.count == previous.count, "\(values.count) weights stepped from \(previous.count)")
        precondition(buffer.count >= largestPackedSize(count: values.count), "packing buffer too small")
        guard !values.isEmpty else { return 0 }
        return bit_packing_pack_weight_steps(values.baseAddress, previous.baseAddress, values.count, bytes(buffer), buffer.count)
    }

    private static func bytes(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
        buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }

    // MARK: - Reading

    /// The whole structure checked against `count` values: every width is
    /// 0 to 64 and the frame is exactly as long as the widths say.
    static func validate(_ frame: UnsafeRawBufferPointer, count: Int, _ what: @autoclosure () -> String) throws {
        let blocks = blockCount(count)
        let header = roundUp8(blocks)
        guard frame.count >= header else {
            throw ProtocolError.truncated(what: "\(what()) block widths", needed: header, available: frame.count)
        }
        var bytes = header
        for block in 0..<blocks {
            let width = frame[block]
            guard width <= 64 else {
                throw ProtocolError.outOfRange(what: "\(what()) block \(block) width", value: Int(width), min: 0, max: 64)
            }
            bytes += blockBytes(length: min(blockLength, count - block * blockLength), width: Int(width))
        }
        for pad in blocks..<header where frame[pad] != 0 {
            throw ProtocolError.outOfRange(what: "\(what()) padding byte \(pad)", value: Int(frame[pad]), min: 0, max: 0)
        }
        guard frame.count == roundUp8(bytes) else {
            throw ProtocolError.shapeMismatch(what: "\(what()) (packed, \(count) Int64s)", expected: roundUp8(bytes), actual: frame.count)
        }
    }

    /// Adds the frame's values onto `sum` (or, with `overwrite`, stores them).
    /// The frame must have passed `validate` for `sum.count` values.
    static func unpack(_ frame: UnsafeRawBufferPointer, into sum: UnsafeMutableBufferPointer<Int64>, overwrite: Bool) {
        guard !sum.isEmpty else { return }
        bit_packing_unpack_int64s(bytes(frame), frame.count, sum.baseAddress, sum.count, overwrite ? 1 : 0)
    }

    /// Steps `weights` (the `previous` of `packWeightSteps`) to the values
    /// packed. The frame must have passed `validate` for `weights.count` values.
    static func unpackWeightSteps(_ frame: UnsafeRawBufferPointer, onto weights: UnsafeMutableBufferPointer<Float>) {
        guard !weights.isEmpty else { return }
        bit_packing_unpack_weight_steps(bytes(frame), frame.count, weights.baseAddress, weights.count)
    }

    private static func bytes(_ frame: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
        frame.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }
}
