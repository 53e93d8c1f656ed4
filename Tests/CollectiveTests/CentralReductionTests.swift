import Collective
import Wire
import XCTest

/// The central reduction adds a partial only if it answers exactly the
/// shards its sender holds, each once, with their samples: the sum and the
/// divisor are those of the step's shards, whatever members send.
final class CentralReductionTests: XCTestCase {
    private let parameterCount = 4

    /// Shards of 3, 3, 2 and 2 samples over members "a" (0, 1) and "b" (2, 3).
    private func started() -> (CentralReduction<String>, GradientSum, [String: Range<Int>]) {
        let reduction = CentralReduction<String>()
        let sum = GradientSum(parameterCount: parameterCount)
        sum.reset()
        var blocks: [String: Range<Int>] = [:]
        let members = ["a", "b"]
        reduction.start(into: sum, shardSamples: [3, 3, 2, 2], memberCount: 2, member: { members[$0] }) { blocks[$0] = $1 }
        return (reduction, sum, blocks)
    }

    private func partial(_ values: [Int64]) -> CentralReduction<String>.Partial {
        .written { target, overwrite in
            for i in 0..<target.count { target[i] = (overwrite ? 0 : target[i]) &+ values[i] }
        }
    }

    func testPartialsOfEveryShardAddUpExactly() {
        let (reduction, sum, blocks) = started()
        XCTAssertEqual(blocks, ["a": 0..<2, "b": 2..<4])
        XCTAssertEqual(reduction.accept([0, 1], from: "a", samples: 6, lossFixed: 10, correct: 5, values: partial([1, 2, 3, 4])), .added)
        XCTAssertFalse(reduction.isComplete)
        XCTAssertEqual(reduction.accept([2, 3], from: "b", samples: 4, lossFixed: 7, correct: 1, values: partial([10, 20, 30, 40])), .added)
        XCTAssertTrue(reduction.isComplete)
        XCTAssertEqual(Array(sum.values), [11, 22, 33, 44])
        XCTAssertEqual(sum.samples, 10)
        XCTAssertEqual(sum.correct, 6)
        XCTAssertEqual(sum.lossFixed, 17)
        XCTAssertEqual(reduction.nonFiniteFrom, [])
    }

    func testARepeatedShardIsRefusedAndCountsNothing() {
        let (reduction, sum, _) = started()
        guard case .refused = reduction.accept([0, 0], from: "a", samples: 6, lossFixed: 1, correct: 0, values: partial([1, 1, 1, 1])) else {
            return XCTFail("a gradient naming shard 0 twice was accepted")
        }
        XCTAssertEqual(sum.samples, 0)
        XCTAssertTrue(sum.isEmpty)
        XCTAssertEqual(reduction.assignment.outstandingCount, 4, "a refused partial marked shards done")
    }

    func testInflatedSampleCountsForeignShardsAndLateRepeatsAreRefused() {
        let (reduction, sum, _) = started()
        guard case .refused = reduction.accept([0, 1], from: "a", samples: 60, lossFixed: 0, correct: 0, values: partial([1, 1, 1, 1])) else {
            return XCTFail("an inflated sample count was accepted")
        }
        guard case .refused = reduction.accept([2], from: "a", samples: 2, lossFixed: 0, correct: 0, values: partial([1, 1, 1, 1])) else {
            return XCTFail("a shard held by another member was accepted")
        }
        XCTAssertEqual(reduction.accept([0, 1], from: "a", samples: 6, lossFixed: 0, correct: 0, values: partial([1, 1, 1, 1])), .added)
        guard case .refused = reduction.accept([0, 1], from: "a", samples: 6, lossFixed: 0, correct: 0, values: partial([1, 1, 1, 1])) else {
            return XCTFail("the same partial was added twice")
        }
        XCTAssertEqual(Array(sum.values), [1, 1, 1, 1])
        XCTAssertEqual(sum.samples, 6)
    }

    func testTheFirstInPlacePartialIsAdoptedAndNonFiniteSendersAreNamed() {
        let (reduction, sum, _) = started()
        var frame: [Int64] = [5, 6, 7, 8]
        frame.withUnsafeMutableBufferPointer { frame in
            XCTAssertEqual(reduction.accept([2, 3], from: "b", samples: 4, lossFixed: FixedPoint.nonFiniteLoss, correct: 0,
                                            values: .inPlace(frame)), .adopted)
            XCTAssertEqual(sum.values.baseAddress, frame.baseAddress, "the first partial was copied, not adopted")
            XCTAssertEqual(reduction.accept([0, 1], from: "a", samples: 6, lossFixed: 3, correct: 0, values: partial([1, 1, 1, 1])), .added)
        }
        XCTAssertEqual(frame, [6, 7, 8, 9])
        XCTAssertEqual(reduction.nonFiniteFrom, ["b"])
        XCTAssertFalse(sum.finite)
    }

    func testTheWireCapsShardsBelowWhatASumHoldsExactly() {
        XCTAssertLessThanOrEqual(WireLimits.maxShardsPerMessage, FixedPoint.maxShardsPerSum)
    }
}
