/// A compact frame for an array of Int64 whose values are mostly small, as
/// fixed-point gradient sums are: the array is cut into blocks of 256, and
/// each block is stored at the narrowest width that holds all its values
/// exactly: 0 bytes (all zero), 4 (Int32) or 8. On real gradients 80-90% of
/// blocks fit 4 bytes or less, so the frame is about half the raw size.
///
/// Layout, little-endian: one width byte per block, padded with zeros to a
/// multiple of 8; then the blocks in order; then zeros to a multiple of 8.
/// Every block starts 8-byte aligned, so an aligned frame is read in place.
public enum PackedInt64s {
    public static let blockLength = 256

    static func blockCount(_ count: Int) -> Int { (count + blockLength - 1) / blockLength }
    static func roundUp8(_ bytes: Int) -> Int { (bytes + 7) & ~7 }

    /// The size of a frame of `count` values whose every block is 8 bytes wide: no frame is larger.
    public static func largestPackedSize(count: Int) -> Int {
        roundUp8(blockCount(count)) + roundUp8(count * 8)
    }

    /// Writes each block's width into `widths` (blockCount bytes) and returns the frame size.
    public static func measure(_ values: UnsafeBufferPointer<Int64>, widths: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let blocks = blockCount(values.count)
        precondition(widths.count >= blocks, "widths buffer too small")
        var bytes = roundUp8(blocks)
        for block in 0..<blocks {
            let start = block * blockLength, end = min(start + blockLength, values.count)
            var any: Int64 = 0, magnitude: Int64 = 0
            for i in start..<end {
                let value = values[i]
                any |= value
                magnitude |= value ^ (value >> 63)  // |value| or |value| - 1: what Int32 must hold
            }
            let width: UInt8 = any == 0 ? 0 : (magnitude >> 31 == 0 ? 4 : 8)
            widths[block] = width
            bytes += Int(width) * (end - start)
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
            let source = values.baseAddress! + start
            switch widths[block] {
            case 4:
                let target = (frame.baseAddress! + offset).bindMemory(to: Int32.self, capacity: length)
                for i in 0..<length { target[i] = Int32(truncatingIfNeeded: source[i]) }
            case 8:
                (frame.baseAddress! + offset).copyMemory(from: source, byteCount: length * 8)
            default:
                break
            }
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
            var any: Int64 = 0, magnitude: Int64 = 0
            for i in 0..<length {
                any |= source[i]
                magnitude |= source[i] ^ (source[i] >> 63)
            }
            let width: UInt8 = any == 0 ? 0 : (magnitude >> 31 == 0 ? 4 : 8)
            buffer[block] = width
            switch width {
            case 4:
                let target = (buffer.baseAddress! + offset).bindMemory(to: Int32.self, capacity: length)
                for i in 0..<length { target[i] = Int32(truncatingIfNeeded: source[i]) }
            case 8:
                (buffer.baseAddress! + offset).copyMemory(from: source, byteCount: length * 8)
            default:
                break
            }
            offset += Int(width) * length
        }
        let size = roundUp8(offset)
        for pad in offset..<size { buffer[pad] = 0 }
        return size
    }

    /// The whole structure checked against `count` values: every width is
    /// 0, 4 or 8 and the frame is exactly as long as the widths say.
    static func validate(_ frame: UnsafeRawBufferPointer, count: Int, _ what: @autoclosure () -> String) throws {
        let blocks = blockCount(count)
        let header = roundUp8(blocks)
        guard frame.count >= header else {
            throw ProtocolError.truncated(what: "\(what()) block widths", needed: header, available: frame.count)
        }
        var bytes = header
        for block in 0..<blocks {
            let width = frame[block]
            guard width == 0 || width == 4 || width == 8 else {
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
            switch (width, overwrite) {
            case (0, true):
                target.update(repeating: 0, count: length)
            case (4, _):
                let source = (frame.baseAddress! + offset).assumingMemoryBound(to: Int32.self)
                if overwrite {
                    for i in 0..<length { target[i] = Int64(source[i]) }
                } else {
                    for i in 0..<length { target[i] &+= Int64(source[i]) }
                }
            case (8, _):
                let source = (frame.baseAddress! + offset).assumingMemoryBound(to: Int64.self)
                if overwrite {
                    target.update(from: source, count: length)
                } else {
                    for i in 0..<length { target[i] &+= source[i] }
                }
            default:
                break
            }
            offset += width * length
        }
    }
}
