/// A 256-bit digest of a fixed-point sum (its values, loss and counts), for
/// verified gradients in the ring, where the coordinator sees no gradient
/// and two members' computations of a shard are compared by digest.
///
/// xxHash64's round over four independent lanes, each finalised with every
/// lane mixed in. Not cryptographic, and it need not be: a member reports
/// its own digest, so a deliberate liar would simply report the honest one
/// rather than search for a collision (see README, *Security*); what the
/// digest must do is make any difference in 4 MB of values show, in one
/// pass at about memory speed, on the members' cores that compute.
public enum SumDigest {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9

    public static func of(_ sum: GradientSum) -> SIMD4<UInt64> {
        of(values: UnsafeBufferPointer(sum.values), lossFixed: sum.lossFixed, correct: sum.correct, samples: sum.samples)
    }

    public static func of(values: UnsafeBufferPointer<Int64>, lossFixed: Int64, correct: Int, samples: Int) -> SIMD4<UInt64> {
        var lanes = SIMD4<UInt64>(prime1 &+ prime2, prime2, 0, 0 &- prime1)
        let whole = values.count / 4 * 4
        values.withMemoryRebound(to: UInt64.self) { words in
            var index = 0
            while index < whole {
                let input = SIMD4<UInt64>(words[index], words[index + 1], words[index + 2], words[index + 3])
                lanes = round(lanes, input)
                index += 4
            }
            var tail = SIMD4<UInt64>(repeating: 0)
            for (lane, at) in (whole..<words.count).enumerated() { tail[lane] = words[at] }
            lanes = round(lanes, tail)
        }
        let counts = SIMD4<UInt64>(
            UInt64(bitPattern: lossFixed), UInt64(truncatingIfNeeded: correct), UInt64(truncatingIfNeeded: samples),
            UInt64(truncatingIfNeeded: values.count))
        lanes = round(lanes, counts)
        // Each output word depends on every lane.
        let mixed = lanes[0] ^ rotate(lanes[1], 7) ^ rotate(lanes[2], 12) ^ rotate(lanes[3], 18)
        var out = SIMD4<UInt64>()
        for lane in 0..<4 { out[lane] = avalanche(lanes[lane] ^ (mixed &* prime3) &+ UInt64(lane)) }
        return out
    }

    private static func round(_ lanes: SIMD4<UInt64>, _ input: SIMD4<UInt64>) -> SIMD4<UInt64> {
        let added = lanes &+ input &* prime2
        let rotated = (added &<< 31) | (added &>> 33)
        return rotated &* prime1
    }

    private static func rotate(_ x: UInt64, _ by: UInt64) -> UInt64 { (x << by) | (x >> (64 - by)) }

    private static func avalanche(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33; x &*= prime2
        x ^= x >> 29; x &*= prime3
        x ^= x >> 32
        return x
    }
}
