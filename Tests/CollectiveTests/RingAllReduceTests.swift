import Collective
import Foundation
import MLP
import XCTest

/// RingAllReduce over in-process links: every member ends with the weights
/// of one update of the whole sum in one place, as `train` makes it; with
/// clipping by norm, scaled by the whole sum's norm, which no member holds.
final class RingAllReduceTests: XCTestCase {
    private let parameterCount = 3000
    private let samples = 40
    private let settings = OptimiserSettings(learningRate: 0.1, momentum: 0.9)

    /// A whole step's fixed-point sums: a gradient summed over `samples`, on the grid.
    private func wholeSums() -> [Int64] {
        var state: UInt64 = 5
        let summed: [Float] = (0..<parameterCount).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 8
        }
        var sums = [Int64](repeating: 0, count: parameterCount)
        summed.withUnsafeBufferPointer { g in sums.withUnsafeMutableBufferPointer { _ = FixedPoint.store(g, into: $0) } }
        return sums
    }

    /// `whole` cut into `count` members' sums that add up to it.
    private func parts(of whole: [Int64], count: Int) -> [[Int64]] {
        var state = UInt64(count)
        var parts = (1..<count).map { _ in
            whole.map { _ -> Int64 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int64(bitPattern: state) >> 24
            }
        }
        parts.append(whole.indices.map { index in parts.reduce(whole[index]) { $0 &- $1[index] } })
        return parts
    }

    private func initialWeights() -> [Float] { (0..<parameterCount).map { Float($0 % 17) / 17 - 0.5 } }

    /// One update of the whole sum, and the norm before clipping when clipping by norm.
    private func reference(_ whole: [Int64], clipping: GradientClipping) -> (weights: [Float], norm: Double?) {
        var weights = initialWeights()
        var mean = [Float](repeating: 0, count: parameterCount)
        let norm = clipping.maxNorm.map { _ in whole.withUnsafeBufferPointer { SquaredNorm(of: $0) }.norm(sampleCount: samples) }
        let optimiser = makeOptimiser(parameterCount: parameterCount, settings: settings)
        _ = whole.withUnsafeBufferPointer { sums in
            weights.withUnsafeMutableBufferPointer { parameters in
                mean.withUnsafeMutableBufferPointer { mean in
                    applyAveragedUpdate(
                        sums: sums, sampleCount: samples, range: 0..<parameterCount, optimiser: optimiser,
                        parameters: parameters, mean: mean, learningRate: settings.learningRate, step: 0,
                        clipping: clipping, scale: norm.map { clipping.scale(norm: $0) } ?? 1)
                }
            }
        }
        return (weights, norm)
    }

    /// Each member in a thread of its own: they wait on one another.
    private func runRing(_ parts: [[Int64]], clipping: GradientClipping) throws -> [(RingAllReduce.Outcome, [Float])] {
        let size = parts.count
        let links = InMemoryRingLink.ring(size: size)
        let partition = RingPartition(parameterCount: parameterCount, size: size)
        let results = try runMembers(parts) { rank, sum, weights, mean in
            let allReduce = RingAllReduce(
                partition: partition, rank: rank,
                optimiser: makeOptimiser(parameterCount: partition.owned(rank: rank).count, settings: self.settings),
                clipping: clipping)
            return try allReduce.run(
                sum: sum, weights: weights, mean: mean, batchSamples: self.samples,
                learningRate: self.settings.learningRate, step: 0, link: links[rank])
        }
        for (rank, link) in links.enumerated() {
            XCTAssertEqual(link.unexpected, [], "member \(rank) of \(size)")
        }
        return results
    }

    /// Two levels: a ring in each host, one between hosts per local rank;
    /// `nonFiniteRank`'s sum is marked not finite.
    private func runTwoLevels(_ parts: [[Int64]], hosts: Int, nonFiniteRank: Int? = nil) throws -> [(RingAllReduce.Outcome, [Float])] {
        let layout = TwoLevelLayout(parameterCount: parameterCount, hosts: hosts, perHost: parts.count / hosts)
        let inHost = (0..<hosts).map { _ in InMemoryRingLink.ring(size: layout.perHost) }
        let betweenHosts = (0..<layout.perHost).map { _ in InMemoryRingLink.ring(size: hosts) }
        let results = try runMembers(parts) { rank, sum, weights, mean in
            if rank == nonFiniteRank {
                sum.addPartial(lossFixed: FixedPoint.nonFiniteLoss, correct: 0, samples: 0, shards: 0) { _, _ in }
            }
            let allReduce = TwoLevelAllReduce(
                layout: layout, rank: rank,
                optimiser: makeOptimiser(parameterCount: layout.owned(rank: rank).count, settings: self.settings))
            let (host, local) = (layout.host(of: rank), layout.localRank(of: rank))
            return try allReduce.run(
                sum: sum, weights: weights, mean: mean, batchSamples: self.samples, learningRate: self.settings.learningRate,
                step: 0, local: inHost[host][local], between: betweenHosts[local][host])
        }
        for (rank, link) in (inHost + betweenHosts).joined().enumerated() {
            XCTAssertEqual(link.unexpected, [], "link \(rank) of \(hosts) hosts of \(layout.perHost)")
        }
        return results
    }

    /// Each member runs `allReduce` on its part, in a thread of its own.
    private func runMembers(
        _ parts: [[Int64]],
        _ allReduce: @escaping @Sendable (Int, GradientSum, LendableBuffer<Float>, UnsafeMutableBufferPointer<Float>) throws -> RingAllReduce.Outcome
    ) throws -> [(RingAllReduce.Outcome, [Float])] {
        let size = parts.count
        let results = MemberResults(count: size)
        let done = DispatchSemaphore(value: 0)
        for rank in 0..<size {
            Thread {
                defer { done.signal() }
                let weights = LendableBuffer<Float>(count: self.parameterCount, repeating: 0)
                _ = try? weights.write { _ = $0.update(fromContentsOf: self.initialWeights()) }
                let sum = GradientSum(parameterCount: self.parameterCount)
                sum.addPartial(lossFixed: 0, correct: 0, samples: 0, shards: 1) { target, _ in
                    _ = target.update(fromContentsOf: parts[rank])
                }
                let mean = UnsafeMutableBufferPointer<Float>.allocate(capacity: self.parameterCount)
                defer { mean.deallocate() }
                let outcome = try? allReduce(rank, sum, weights, mean)
                results.set(rank, outcome.map { ($0, Array(weights.readOnly)) })
            }.start()
        }
        for _ in 0..<size { done.wait() }
        return try results.all.map { try XCTUnwrap($0, "a member's run threw") }
    }

    /// What each member's thread ended with.
    private final class MemberResults: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [(RingAllReduce.Outcome, [Float])?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func set(_ rank: Int, _ result: (RingAllReduce.Outcome, [Float])?) { lock.withLock { results[rank] = result } }

        var all: [(RingAllReduce.Outcome, [Float])?] { lock.withLock { results } }
    }

    func testEveryMemberHasTheWholeUpdatesWeights() throws {
        let whole = wholeSums()
        let plain = reference(whole, clipping: GradientClipping())
        for size in 1...4 {
            for (rank, (outcome, weights)) in try runRing(parts(of: whole, count: size), clipping: GradientClipping()).enumerated() {
                XCTAssertEqual(outcome, .updated(gradientNorm: nil), "member \(rank) of \(size)")
                XCTAssertTrue(weights == plain.weights, "member \(rank) of \(size): other weights than one whole update")
            }
        }
    }

    /// Two levels give every member the weights of one whole update, as one
    /// ring does: 2 and 3 hosts, 2 and 3 members on each.
    func testTwoLevelsGiveEveryMemberTheWholeUpdatesWeights() throws {
        let whole = wholeSums()
        let plain = reference(whole, clipping: GradientClipping())
        for (hosts, perHost) in [(2, 2), (3, 2), (2, 3), (3, 3)] {
            let context = "\(hosts) hosts of \(perHost)"
            for (rank, (outcome, weights)) in try runTwoLevels(parts(of: whole, count: hosts * perHost), hosts: hosts).enumerated() {
                XCTAssertEqual(outcome, .updated(gradientNorm: nil), "member \(rank), \(context)")
                XCTAssertTrue(weights == plain.weights, "member \(rank), \(context): other weights than one whole update")
            }
        }
    }

    /// One member's gradient not finite: every member of every host learns
    /// it, and nobody changes a weight.
    func testTwoLevelsTellEveryMemberOfANonFiniteGradient() throws {
        let whole = wholeSums()
        for nonFinite in [0, 3, 5] {
            for (rank, (outcome, weights)) in try runTwoLevels(parts(of: whole, count: 6), hosts: 3, nonFiniteRank: nonFinite).enumerated() {
                XCTAssertEqual(outcome, .nonFinite, "member \(rank), member \(nonFinite) not finite")
                XCTAssertTrue(weights == initialWeights(), "member \(rank) changed weights")
            }
        }
    }

    func testClippingByNormScalesByTheWholeSumsNorm() throws {
        let whole = wholeSums()
        let unclipped = try XCTUnwrap(reference(whole, clipping: GradientClipping(maxNorm: .greatestFiniteMagnitude)).norm)
        let clipping = GradientClipping(maxNorm: Float(unclipped / 4))
        XCTAssertLessThan(clipping.scale(norm: unclipped), 0.3, "the test means to clip")
        let clipped = reference(whole, clipping: clipping)
        XCTAssertFalse(clipped.weights == reference(whole, clipping: GradientClipping()).weights, "clipping changed nothing")
        for size in 1...4 {
            for (rank, (outcome, weights)) in try runRing(parts(of: whole, count: size), clipping: clipping).enumerated() {
                XCTAssertEqual(outcome, .updated(gradientNorm: clipped.norm), "member \(rank) of \(size)")
                XCTAssertTrue(weights == clipped.weights, "member \(rank) of \(size): other weights than the clipped whole update")
            }
        }
    }
}
