/// A compact frame for an array of Int64 whose values are mostly small, as
/// fixed-point gradient sums are: the array is cut into blocks of 256, and
/// each block is stored at the narrowest whole number of bytes that holds
/// all its values exactly, 0 (all zero) to 8: a value's low bytes, sign
/// extended when read. Gradient sums of 784-512-256-10 take 3 to 5 bytes a
/// value where they are not zero, so the frame is about half the raw size
/// (widths of only 0, 4 and 8 sent 14% more bytes per value).
///
/// Layout, little-endian: one width byte per block, padded with zeros to a
/// multiple of 8; then the blocks in order; then zeros to a multiple of 8.
/// A whole block is 256·width bytes, a multiple of 8, so every block after
/// the widths starts 8-byte aligned.
public enum PackedInt64s {
    public static let blockLength = 256

    static func blockCount(_ count: Int) -> Int { (count + blockLength - 1) / blockLength }
    static func roundUp8(_ bytes: Int) -> Int { (bytes + 7) & ~7 }

    /// The size of a frame of `count` values whose every block is 8 bytes wide: no frame is larger.
    public static func largestPackedSize(count: Int) -> Int {
        roundUp8(blockCount(count)) + roundUp8(count * 8)
    }

    /// The bytes that hold every value of `values` exactly, sign included; 0 when all are zero.
    @inline(__always)
    static func width(of values: UnsafePointer<Int64>, count: Int) -> UInt8 {
        var any: Int64 = 0, magnitude: Int64 = 0
        for i in 0..<count {
            any |= values[i]
            magnitude |= values[i] ^ (values[i] >> 63)  // |value| or |value| - 1: what the bits below the sign must hold
        }
        guard any != 0 else { return 0 }
        let bits = 64 - magnitude.leadingZeroBitCount + 1
        return UInt8((bits + 7) / 8)
    }

    /// Writes each block's width into `widths` (blockCount bytes) and returns the frame size.
    public static func measure(_ values: UnsafeBufferPointer<Int64>, widths: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let blocks = blockCount(values.count)
        precondition(widths.count >= blocks, "widths buffer too small")
        var bytes = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, values.count - start)
            let width = width(of: values.baseAddress! + start, count: length)
            widths[block] = width
            bytes += Int(width) * length
        }
        return roundUp8(bytes)
    }

    /// Packs `values` into `frame`, whose size `measure` returned with these `widths`.
    public static func pack(
        _ values: UnsafeBufferPointer<Int64>, widths: UnsafeBufferPointer<UInt8>, into frame: UnsafeMutableRawBufferPointer
    ) {
        let blocks = blockCount(values.count)
        // Every block byte is written below; only the two paddings need zeros.
        for pad in blocks..<roundUp8(blocks) { frame[pad] = 0 }
        for pad in max(0, frame.count - 7)..<frame.count { frame[pad] = 0 }
        var offset = roundUp8(blocks)
        for block in 0..<blocks {
            frame[block] = widths[block]
            let start = block * blockLength, length = min(blockLength, values.count - start)
            store(values.baseAddress! + start, count: length, width: Int(widths[block]), at: frame.baseAddress! + offset)
            offset += Int(widths[block]) * length
        }
    }

    /// `measure` and `pack` in one pass over `values`: each block is measured
    /// and written while it is still in cache. `buffer` must hold
    /// `largestPackedSize(count:)` bytes; returns the bytes the frame takes
    /// (a prefix of `buffer`), the same bytes `measure` and `pack` write.
    public static func pack(_ values: UnsafeBufferPointer<Int64>, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let blocks = blockCount(values.count)
        precondition(buffer.count >= largestPackedSize(count: values.count), "packing buffer too small")
        for pad in blocks..<roundUp8(blocks) { buffer[pad] = 0 }
        var offset = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, values.count - start)
            let source = values.baseAddress! + start
            let width = width(of: source, count: length)
            buffer[block] = width
            store(source, count: length, width: Int(width), at: buffer.baseAddress! + offset)
            offset += Int(width) * length
        }
        let size = roundUp8(offset)
        for pad in offset..<size { buffer[pad] = 0 }
        return size
    }

    /// The low `width` bytes of each value, one after another.
    @inline(__always)
    private static func store(_ source: UnsafePointer<Int64>, count: Int, width: Int, at target: UnsafeMutableRawPointer) {
        switch width {
        case 0:
            break
        case 8:
            target.copyMemory(from: source, byteCount: count * 8)
        case 4:
            let words = target.bindMemory(to: Int32.self, capacity: count)
            for i in 0..<count { words[i] = Int32(truncatingIfNeeded: source[i]) }
        case 2:
            let words = target.bindMemory(to: Int16.self, capacity: count)
            for i in 0..<count { words[i] = Int16(truncatingIfNeeded: source[i]) }
        default:
            // 1, 3, 5, 6, 7: a little-endian store of all 8 bytes, whose
            // bytes beyond `width` the next values' stores overwrite; the
            // values whose 8 bytes would reach past the block go byte by byte.
            let wide = max(0, count - (8 + width - 1) / width)
            for i in 0..<wide {
                target.storeBytes(of: UInt64(bitPattern: source[i]).littleEndian, toByteOffset: i * width, as: UInt64.self)
            }
            for i in wide..<count {
                let value = UInt64(bitPattern: source[i])
                for byte in 0..<width {
                    target.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * byte)), toByteOffset: i * width + byte, as: UInt8.self)
                }
            }
        }
    }

    /// The whole structure checked against `count` values: every width is
    /// 0 to 8 and the frame is exactly as long as the widths say.
    static func validate(_ frame: UnsafeRawBufferPointer, count: Int, _ what: @autoclosure () -> String) throws {
        let blocks = blockCount(count)
        let header = roundUp8(blocks)
        guard frame.count >= header else {
            throw ProtocolError.truncated(what: "\(what()) block widths", needed: header, available: frame.count)
        }
        var bytes = header
        for block in 0..<blocks {
            let width = frame[block]
            guard width <= 8 else {
                throw ProtocolError.outOfRange(what: "\(what()) block \(block) width", value: Int(width), min: 0, max: 8)
            }
            bytes += Int(width) * min(blockLength, count - block * blockLength)
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
        let blocks = blockCount(sum.count)
        var offset = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, length = min(blockLength, sum.count - start)
            let target = sum.baseAddress! + start
            let width = Int(frame[block])
            let source = frame.baseAddress! + offset
            switch width {
            case 0:
                if overwrite { target.update(repeating: 0, count: length) }
            case 8:
                let words = source.assumingMemoryBound(to: Int64.self)
                if overwrite {
                    target.update(from: words, count: length)
                } else {
                    for i in 0..<length { target[i] &+= words[i] }
                }
            case 4:
                let words = source.assumingMemoryBound(to: Int32.self)
                if overwrite {
                    for i in 0..<length { target[i] = Int64(words[i]) }
                } else {
                    for i in 0..<length { target[i] &+= Int64(words[i]) }
                }
            case 2:
                let words = source.assumingMemoryBound(to: Int16.self)
                if overwrite {
                    for i in 0..<length { target[i] = Int64(words[i]) }
                } else {
                    for i in 0..<length { target[i] &+= Int64(words[i]) }
                }
            default:
                // The value's bytes in the high end of a word, shifted back down with its sign.
                let shift = UInt64(64 - 8 * width)
                for i in 0..<length {
                    var raw: UInt64 = 0
                    withUnsafeMutableBytes(of: &raw) { $0.baseAddress!.copyMemory(from: source + i * width, byteCount: width) }
                    let value = Int64(bitPattern: UInt64(littleEndian: raw) << shift) >> Int64(shift)
                    if overwrite { target[i] = value } else { target[i] &+= value }
                }
            }
            offset += width * length
        }
    }
}
