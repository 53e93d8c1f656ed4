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

    @inline(__always)
    static func unzigzag(_ bits: UInt64) -> Int64 { Int64(bitPattern: (bits >> 1) ^ (0 &- (bits & 1))) }

    // MARK: - Packing

    /// Writes each block's width into `widths` (blockCount bytes) and returns the frame size.
    public static func measure(_ values: UnsafeBufferPointer<Int64>, widths: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let blocks = blockCount(values.count)
        precondition(widths.count >= blocks, "widths buffer too small")
        var bytes = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, values.count - start)
            var any: UInt64 = 0
            for i in start..<(start + length) { any |= zigzag(values[i]) }
            let width = 64 - any.leadingZeroBitCount
            widths[block] = UInt8(width)
            bytes += blockBytes(length: length, width: width)
        }
        return roundUp8(bytes)
    }

    /// Packs `values` into `frame`, whose size `measure` returned with these `widths`.
    public static func pack(
        _ values: UnsafeBufferPointer<Int64>, widths: UnsafeBufferPointer<UInt8>, into frame: UnsafeMutableRawBufferPointer
    ) {
        let blocks = blockCount(values.count)
        for pad in blocks..<roundUp8(blocks) { frame[pad] = 0 }
        var offset = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, values.count - start)
            let width = Int(widths[block])
            frame[block] = UInt8(width)
            storeBlock(width: width, count: length, at: frame.baseAddress! + offset) { zigzag(values[start + $0]) }
            offset += blockBytes(length: length, width: width)
        }
        for pad in offset..<frame.count { frame[pad] = 0 }
    }

    /// `measure` and `pack` in one pass over `values`: each block is measured
    /// and written while it is still in cache. `buffer` must hold
    /// `largestPackedSize(count:)` bytes; returns the bytes the frame takes
    /// (a prefix of `buffer`), the same bytes `measure` and `pack` write.
    public static func pack(_ values: UnsafeBufferPointer<Int64>, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        packBlocks(count: values.count, into: buffer) { zigzag(values[$0]) }
    }

    /// Weights as the steps from `previous` to `values`: each Float's bits
    /// as an integer in the order of the Floats (`orderedBits`), and the
    /// difference of the two packed. Exact for every bit pattern (both
    /// zeros, infinities, NaNs); a receiver holding `previous` rebuilds
    /// `values` with `unpackWeightSteps`. `buffer` as for `pack`.
    public static func packWeightSteps(
        _ values: UnsafeBufferPointer<Float>, from previous: UnsafeBufferPointer<Float>,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(values.count == previous.count, "\(values.count) weights stepped from \(previous.count)")
        return packBlocks(count: values.count, into: buffer) {
            zigzag(orderedBits(values[$0]) - orderedBits(previous[$0]))
        }
    }

    /// A Float's bits as an integer that grows with the Float: adjacent
    /// Floats are adjacent integers, so a small step is a small difference.
    /// -0.0 is -1, just below +0.0, so the two stay apart.
    @inline(__always)
    static func orderedBits(_ value: Float) -> Int64 {
        let bits = value.bitPattern
        return bits & 0x8000_0000 == 0 ? Int64(bits) : -Int64(bits & 0x7FFF_FFFF) - 1
    }

    @inline(__always)
    static func float(orderedBits: Int64) -> Float {
        Float(bitPattern: orderedBits >= 0 ? UInt32(truncatingIfNeeded: orderedBits)
                                          : 0x8000_0000 | UInt32(truncatingIfNeeded: -(orderedBits + 1)))
    }

    @inline(__always)
    private static func packBlocks(
        count: Int, into buffer: UnsafeMutableRawBufferPointer, _ zigzagged: (Int) -> UInt64
    ) -> Int {
        let blocks = blockCount(count)
        precondition(buffer.count >= largestPackedSize(count: count), "packing buffer too small")
        for pad in blocks..<roundUp8(blocks) { buffer[pad] = 0 }
        var offset = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, count - start)
            var any: UInt64 = 0
            for i in start..<(start + length) { any |= zigzagged(i) }
            let width = 64 - any.leadingZeroBitCount
            buffer[block] = UInt8(width)
            storeBlock(width: width, count: length, at: buffer.baseAddress! + offset) { zigzagged(start + $0) }
            offset += blockBytes(length: length, width: width)
        }
        let size = roundUp8(offset)
        for pad in offset..<size { buffer[pad] = 0 }
        return size
    }

    /// The low `width` bits of each value, one after another. Whole 64-bit
    /// words go out as they fill, the rest byte by byte: nothing is written
    /// past the block's own bytes.
    @inline(__always)
    private static func storeBlock(width: Int, count: Int, at target: UnsafeMutableRawPointer, _ value: (Int) -> UInt64) {
        guard width > 0 else { return }
        var word: UInt64 = 0, filled = 0, offset = 0
        for i in 0..<count {
            let bits = value(i)
            word |= bits << filled
            filled += width
            if filled >= 64 {
                target.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
                offset += 8
                filled -= 64
                // The value's bits that did not fit (none when it ended the word exactly).
                word = filled == 0 ? 0 : bits >> (width - filled)
            }
        }
        var byte = 0
        while byte * 8 < filled {
            target.storeBytes(of: UInt8(truncatingIfNeeded: word >> (8 * byte)), toByteOffset: offset + byte, as: UInt8.self)
            byte += 1
        }
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
        if overwrite {
            forEachValue(in: frame, count: sum.count) { sum[$0] = unzigzag($1) }
        } else {
            forEachValue(in: frame, count: sum.count) { sum[$0] &+= unzigzag($1) }
        }
    }

    /// Steps `weights` (the `previous` of `packWeightSteps`) to the values
    /// packed. The frame must have passed `validate` for `weights.count` values.
    static func unpackWeightSteps(_ frame: UnsafeRawBufferPointer, onto weights: UnsafeMutableBufferPointer<Float>) {
        forEachValue(in: frame, count: weights.count) { index, bits in
            weights[index] = float(orderedBits: orderedBits(weights[index]) &+ unzigzag(bits))
        }
    }

    /// Each value's zigzagged bits with its index, in order. Reads whole
    /// 64-bit words where the writer wrote them, the rest byte by byte:
    /// nothing past the block's own bytes is read.
    @inline(__always)
    private static func forEachValue(in frame: UnsafeRawBufferPointer, count: Int, _ body: (Int, UInt64) -> Void) {
        let blocks = blockCount(count)
        var offset = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, count - start)
            let width = Int(frame[block])
            let bytes = blockBytes(length: length, width: width)
            guard width > 0 else {
                for i in start..<(start + length) { body(i, 0) }
                continue
            }
            let source = frame.baseAddress! + offset
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            var word: UInt64 = 0, held = 0, read = 0
            for i in start..<(start + length) {
                if held >= width {
                    body(i, word & mask)
                    word = word >> width
                    held -= width
                    continue
                }
                // The next word: 8 bytes, or the block's last few.
                let next: UInt64
                let nextBits: Int
                if read + 8 <= bytes {
                    next = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: read, as: UInt64.self))
                    nextBits = 64
                    read += 8
                } else {
                    var tail: UInt64 = 0
                    for byte in 0..<(bytes - read) { tail |= UInt64(source.load(fromByteOffset: read + byte, as: UInt8.self)) << (8 * byte) }
                    next = tail
                    nextBits = 8 * (bytes - read)
                    read = bytes
                }
                body(i, (word | next << held) & mask)
                let used = width - held
                word = next >> used
                held = nextBits - used
            }
            offset += bytes
        }
    }
}
