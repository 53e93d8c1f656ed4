import Datasets
import XCTest

final class BatchPlanTests: XCTestCase {
    func testKeepsTheLastPartialBatch() throws {
        let plan = try BatchPlan(sampleCount: 5_000, batchSize: 128)
        XCTAssertEqual(plan.stepsPerEpoch, 40)
        XCTAssertEqual(plan.batchRange(step: 0), 0..<128)
        XCTAssertEqual(plan.batchRange(step: 38), 4_864..<4_992)
        XCTAssertEqual(plan.batchRange(step: 39), 4_992..<5_000)
    }

    func testCutsBatchesIntoShardsOf32() throws {
        let plan = try BatchPlan(sampleCount: 5_000, batchSize: 128)
        XCTAssertEqual(plan.shardRanges(step: 1), [128..<160, 160..<192, 192..<224, 224..<256])
        XCTAssertEqual(plan.shardRanges(step: 39), [4_992..<5_000])
    }

    func testLastShardMayBeShorter() throws {
        let plan = try BatchPlan(sampleCount: 100, batchSize: 70, shardSize: 32)
        XCTAssertEqual(plan.stepsPerEpoch, 2)
        XCTAssertEqual(plan.shardRanges(step: 0), [0..<32, 32..<64, 64..<70])
        XCTAssertEqual(plan.shardRanges(step: 1), [70..<100])
        XCTAssertEqual(plan.shardCount(step: 0), 3)
        XCTAssertEqual(plan.shardRange(step: 0, shard: 2), 64..<70)
    }

    func testShardsCoverEveryPositionOnce() throws {
        let plan = try BatchPlan(sampleCount: 1_003, batchSize: 100, shardSize: 7)
        let positions = (0..<plan.stepsPerEpoch).flatMap { plan.shardRanges(step: $0) }.flatMap { Array($0) }
        XCTAssertEqual(positions, Array(0..<1_003))
    }

    func testRejectsBadSizes() {
        XCTAssertEqual(errorMessage { try BatchPlan(sampleCount: 10, batchSize: 0) },
                       "--batch-size: must be at least 1, got 0")
        XCTAssertEqual(errorMessage { try BatchPlan(sampleCount: 10, batchSize: -3) },
                       "--batch-size: must be at least 1, got -3")
        XCTAssertEqual(errorMessage { try BatchPlan(sampleCount: 10, batchSize: 4, shardSize: 0) },
                       "shard size: must be at least 1, got 0")
        XCTAssertEqual(errorMessage { try BatchPlan(sampleCount: 0, batchSize: 4) },
                       "the training data holds no samples")
    }
}
