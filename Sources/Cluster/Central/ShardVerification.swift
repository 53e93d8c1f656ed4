// Verified gradients, central collective: a seeded sample of each step's
// micro-shards (`VerificationSample`) is computed twice, by the member that
// holds the shard and by another, and the two answers are compared bit for
// bit. A shard's fixed-point gradient is exact (equal inputs give equal
// bits), so any difference is a fault or a lie; the coordinator then
// computes the shard a third time itself and the member that disagrees
// with it is expelled. The answers are kept (their received frames) and
// compared byte for byte: a memcmp of 4 MB costs far less than hashing it.

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Wire

/// The sampled shards of the step under way: who holds each, who checks it,
/// and what each answered.
struct ShardChecks {
    struct Check {
        let shard: Int
        let holder: PeerID
        var checker: PeerID?
        var holderAnswer: Gradient?
        var checkerAnswer: Gradient?

        /// Both answers are in, or there is nobody left to check.
        var isSettled: Bool { checker == nil || (holderAnswer != nil && checkerAnswer != nil) }
    }

    private(set) var byShard: [Int: Check] = [:]

    mutating func removeAll() { byShard.removeAll(keepingCapacity: true) }

    mutating func add(shard: Int, holder: PeerID, checker: PeerID?) {
        byShard[shard] = Check(shard: shard, holder: holder, checker: checker)
    }

    var isSettled: Bool { byShard.values.allSatisfy(\.isSettled) }

    /// Whether a one-shard gradient from `peer` is the check of `shard` still awaited.
    func awaitsCheck(of shard: Int, from peer: PeerID) -> Bool {
        byShard[shard].map { $0.checker == peer && $0.checkerAnswer == nil } ?? false
    }

    func awaitsHolder(of shard: Int, from peer: PeerID) -> Bool {
        byShard[shard].map { $0.holder == peer && $0.holderAnswer == nil } ?? false
    }

    mutating func recordCheck(of shard: Int, _ answer: Gradient) { byShard[shard]?.checkerAnswer = answer }

    mutating func recordHolder(of shard: Int, _ answer: Gradient) { byShard[shard]?.holderAnswer = answer }

    /// Checks `lost` had yet to answer go to `replacement(holder, shard)`
    /// (nil: left unchecked); returns the moved checks. A holder lost before
    /// answering gives its shard to others in a block, so that check is dropped.
    mutating func lose(_ lost: PeerID, replacement: (PeerID, Int) -> PeerID?) -> [(shard: Int, checker: PeerID)] {
        var moved: [(shard: Int, checker: PeerID)] = []
        for (shard, check) in byShard {
            if check.holder == lost, check.holderAnswer == nil {
                byShard[shard] = nil
            } else if check.checker == lost, check.checkerAnswer == nil {
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
            (check.holderAnswer == nil ? [check.holder] : []) + (check.checkerAnswer == nil ? check.checker.map { [$0] } ?? [] : [])
        }
    }

    /// Checks with both answers in, by shard.
    var answered: [Check] {
        byShard.values.filter { $0.holderAnswer != nil && $0.checkerAnswer != nil }.sorted { $0.shard < $1.shard }
    }
}

/// Compares answers for one shard: loss, counts and every fixed-point value.
final class AnswerComparison {
    private let first: UnsafeMutableBufferPointer<Int64>
    private let second: UnsafeMutableBufferPointer<Int64>

    init(parameterCount: Int) {
        first = .allocate(capacity: parameterCount)
        second = .allocate(capacity: parameterCount)
    }

    deinit {
        first.deallocate()
        second.deallocate()
    }

    func agree(_ a: Gradient, _ b: Gradient) -> Bool {
        guard a.lossSumFixedPoint == b.lossSumFixedPoint, a.correct == b.correct, a.sampleCount == b.sampleCount else {
            return false
        }
        // One encoding is deterministic: equal values give equal bytes.
        if a.encoding == b.encoding { return Self.sameBytes(a.gradient, b.gradient) }
        return Self.same(values(a, in: first), values(b, in: second))
    }

    /// Whether `answer` is exactly `values` with this loss and these counts.
    func agree(_ answer: Gradient, values: UnsafeBufferPointer<Int64>, lossFixed: Int64, correct: Int, samples: Int) -> Bool {
        answer.lossSumFixedPoint == lossFixed && Int(answer.correct) == correct && Int(answer.sampleCount) == samples
            && Self.same(self.values(answer, in: first), values)
    }

    private func values(_ answer: Gradient, in scratch: UnsafeMutableBufferPointer<Int64>) -> UnsafeBufferPointer<Int64> {
        if let inPlace = answer.valuesInPlace { return UnsafeBufferPointer(inPlace) }
        answer.unpack(into: scratch, overwrite: true)
        return UnsafeBufferPointer(scratch)
    }

    private static func same(_ a: UnsafeBufferPointer<Int64>, _ b: UnsafeBufferPointer<Int64>) -> Bool {
        a.count == b.count && memcmp(a.baseAddress!, b.baseAddress!, a.count * 8) == 0
    }

    private static func sameBytes(_ a: ZMQMessage, _ b: ZMQMessage) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in x.count == y.count && (x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) }
        }
    }
}
