import Collective
import XCTest

/// Where a sum's values live: its own buffer, an outgoing frame it was
/// reset into, or the first received frame it adopted instead of copying.
final class GradientSumTests: XCTestCase {
    private let count = 3000

    private func shard(_ seed: Float) -> UnsafeMutableBufferPointer<Float> {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        for i in 0..<count { buffer[i] = seed * Float(i % 97) * 1e-3 - 0.01 }
        return buffer
    }

    /// The same shards summed in the sum's own buffer, for comparison.
    private func reference(_ shards: [UnsafeMutableBufferPointer<Float>]) -> [Int64] {
        let sum = GradientSum(parameterCount: count)
        sum.addShards(shards[...], results: shards.map { _ in ShardResult(lossSum: 1, correct: 1, samples: 32) }[...])
        return Array(sum.values)
    }

    func testResetIntoStorageSumsThereAndResetWithoutReturnsToItsOwnBuffer() {
        let shards = [shard(1), shard(2)]
        defer { shards.forEach { $0.deallocate() } }
        let frame = UnsafeMutableBufferPointer<Int64>.allocate(capacity: count)
        defer { frame.deallocate() }
        frame.initialize(repeating: 7)

        let sum = GradientSum(parameterCount: count)
        let own = sum.values.baseAddress
        sum.reset(storage: frame)
        sum.addShards(shards[...], results: [ShardResult(lossSum: 1, correct: 1, samples: 32),
                                             ShardResult(lossSum: 2, correct: 0, samples: 32)][...])
        XCTAssertEqual(sum.values.baseAddress, frame.baseAddress)
        XCTAssertEqual(Array(frame), reference(shards), "the first shards overwrite what the frame held")
        XCTAssertEqual(sum.samples, 64)

        sum.reset()
        XCTAssertEqual(sum.values.baseAddress, own)
        XCTAssertTrue(sum.isEmpty)
    }

    func testTheFirstPartialIsAdoptedAndLaterOnesAreAddedToIt() {
        let a = shard(1), b = shard(3)
        defer { a.deallocate(); b.deallocate() }
        func partial(_ gradient: UnsafeMutableBufferPointer<Float>) -> UnsafeMutableBufferPointer<Int64> {
            let sum = GradientSum(parameterCount: count)
            sum.addShards([gradient][...], results: [ShardResult(lossSum: 1, correct: 1, samples: 32)][...])
            let frame = UnsafeMutableBufferPointer<Int64>.allocate(capacity: count)
            _ = frame.initialize(from: sum.values)
            return frame
        }
        let first = partial(a), second = partial(b)
        defer { first.deallocate(); second.deallocate() }
        let secondBefore = Array(second)

        let sum = GradientSum(parameterCount: count)
        XCTAssertTrue(sum.addPartial(adopting: first, lossFixed: 10, correct: 1, samples: 32, shards: 1))
        XCTAssertEqual(sum.values.baseAddress, first.baseAddress, "adopted, not copied")
        XCTAssertFalse(sum.addPartial(adopting: second, lossFixed: 20, correct: 2, samples: 32, shards: 1))
        XCTAssertEqual(sum.values.baseAddress, first.baseAddress)
        XCTAssertEqual(Array(sum.values), reference([a, b]), "the second partial is added into the adopted frame")
        XCTAssertEqual(Array(second), secondBefore, "a partial that is added is only read")
        XCTAssertEqual(sum.lossFixed, 30)
        XCTAssertEqual(sum.correct, 3)
        XCTAssertEqual(sum.samples, 64)
        XCTAssertEqual(sum.shards, 2)
    }
}
