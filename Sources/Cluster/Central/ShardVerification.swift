import Crypto
import Wire

/// Verified gradients, central collective: a seeded sample of each step's
/// micro-shards is computed twice, by the member that holds the shard and by
/// another, and the two answers are compared bit for bit. A shard's
/// fixed-point gradient is exact (equal inputs give equal bits), so any
/// difference is a fault or a lie; the coordinator then computes the shard a
/// third time itself and the member that disagrees with it is expelled.
///
/// The sample is a pure function of the seed, the step and the shard, so a
/// verified run is as reproducible as any other.
struct VerificationSample {
    let fraction: Double
    let seed: UInt64

    func contains(step: Int, shard: Int) -> Bool {
        guard fraction > 0 else { return false }
        guard fraction < 1 else { return true }
        // SplitMix64's finaliser over the three: uniform, and cheap.
        var x = seed ^ (UInt64(truncatingIfNeeded: step) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(truncatingIfNeeded: shard) &* 0xC2B2_AE3D_27D4_EB4F)
        x ^= x >> 30; x &*= 0xBF58_476D_1CE4_E5B9
        x ^= x >> 27; x &*= 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return Double(x >> 11) / Double(UInt64(1) << 53) < fraction
    }
}

/// What two computations of one shard are compared by: the SHA-256 of its
/// fixed-point values, loss and counts (4 MB of values need not be kept).
struct ShardDigest: Equatable {
    let bytes: [UInt8]

    init(values: UnsafeBufferPointer<Int64>, lossFixed: Int64, correct: Int, samples: Int) {
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(values))
        for field in [lossFixed, Int64(correct), Int64(samples)] {
            withUnsafeBytes(of: field.littleEndian) { hasher.update(bufferPointer: $0) }
        }
        bytes = Array(hasher.finalize())
    }
}

/// The sampled shards of the step under way: who holds each, who checks it,
/// and what each answered.
struct ShardChecks {
    struct Check {
        let shard: Int
        let holder: PeerID
        var checker: PeerID?
        var holderDigest: ShardDigest?
        var checkerDigest: ShardDigest?

        /// Both answers are in, or there is nobody left to check.
        var isSettled: Bool { checker == nil || (holderDigest != nil && checkerDigest != nil) }
    }

    private(set) var byShard: [Int: Check] = [:]

    mutating func removeAll() { byShard.removeAll(keepingCapacity: true) }

    mutating func add(shard: Int, holder: PeerID, checker: PeerID?) {
        byShard[shard] = Check(shard: shard, holder: holder, checker: checker)
    }

    var isSettled: Bool { byShard.values.allSatisfy(\.isSettled) }

    /// Whether a one-shard gradient from `peer` is the check of `shard` still awaited.
    func awaitsCheck(of shard: Int, from peer: PeerID) -> Bool {
        byShard[shard].map { $0.checker == peer && $0.checkerDigest == nil } ?? false
    }

    func awaitsHolder(of shard: Int, from peer: PeerID) -> Bool {
        byShard[shard].map { $0.holder == peer && $0.holderDigest == nil } ?? false
    }

    mutating func recordCheck(of shard: Int, _ digest: ShardDigest) { byShard[shard]?.checkerDigest = digest }

    mutating func recordHolder(of shard: Int, _ digest: ShardDigest) { byShard[shard]?.holderDigest = digest }

    /// Checks `lost` had yet to answer go to `replacement(holder, shard)`
    /// (nil: left unchecked); returns the moved checks. A holder lost before
    /// answering gives its shard to others in a block, so that check is dropped.
    mutating func lose(_ lost: PeerID, replacement: (PeerID, Int) -> PeerID?) -> [(shard: Int, checker: PeerID)] {
        var moved: [(shard: Int, checker: PeerID)] = []
        for (shard, check) in byShard {
            if check.holder == lost, check.holderDigest == nil {
                byShard[shard] = nil
            } else if check.checker == lost, check.checkerDigest == nil {
                let checker = replacement(check.holder, shard)
                byShard[shard]?.checker = checker
                if let checker { moved.append((shard, checker)) }
            }
        }
        return moved
    }

    /// Members with an answer still to give.
    var awaited: [PeerID] {
        byShard.values.flatMap { check -> [PeerID] in
            (check.holderDigest == nil ? [check.holder] : []) + (check.checkerDigest == nil ? check.checker.map { [$0] } ?? [] : [])
        }
    }

    /// Shards whose two answers differ.
    var disagreements: [Check] {
        byShard.values.filter { $0.holderDigest != nil && $0.checkerDigest != nil && $0.holderDigest != $0.checkerDigest }
            .sorted { $0.shard < $1.shard }
    }
}
