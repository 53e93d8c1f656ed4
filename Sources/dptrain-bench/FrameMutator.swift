import MLP
import Wire

/// Turns well-formed protocol messages into hostile ones: bits flipped in
/// the header, fields overwritten, frames cut, grown, dropped, repeated or
/// replaced, whole messages of noise. Seeded, so a failing case can be found
/// again. Bulk frames are shared, not copied, unless the mutation is theirs.
struct FrameMutator {
    private var random: SeededGenerator

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(max(1, bound))) }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }

    /// A hostile variant of `frames` (frame 0 is the header).
    mutating func mutate(_ frames: [ZMQMessage]) throws -> [ZMQMessage] {
        var out = frames
        var header = frames[0].bytes
        switch below(10) {
        case 0, 1, 2:
            for _ in 0...below(4) where !header.isEmpty { header[below(header.count)] ^= UInt8(1 << below(8)) }
        case 3:
            header = Array(header.prefix(below(header.count + 1)))
        case 4:
            header += bytes(1 + below(64))
        case 5 where header.count > 8:
            // A field past the fixed part, overwritten with extremes or noise.
            let at = 8 + below(header.count - 8)
            let fill: [UInt8] = below(2) == 0 ? [0xff, 0xff, 0xff, 0xff] : bytes(4)
            for (offset, byte) in fill.enumerated() where at + offset < header.count { header[at + offset] = byte }
        case 6 where out.count > 1:
            out.remove(at: 1 + below(out.count - 1))
        case 7:
            out.append(below(2) == 0 ? out[below(out.count)] : try ZMQMessage(copying: bytes(below(256))))
        case 8 where out.count > 1:
            // A bulk frame of another size: cut short or grown.
            let index = 1 + below(out.count - 1)
            let size = below(2) == 0 ? below(max(1, out[index].count)) : out[index].count + 1 + below(4096)
            out[index] = try ZMQMessage(copying: bytes(min(size, 1 << 16)))
        default:
            return try (0..<(1 + below(6))).map { _ in try ZMQMessage(copying: bytes(below(128))) }
        }
        out[0] = try ZMQMessage(copying: header)
        return out
    }
}
