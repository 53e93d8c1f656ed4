import Collective
import XCTest

extension ShardAssignment {
    /// `startBlocks` with the blocks returned as lists.
    mutating func start(shardCount: Int, workers: [Worker]) -> [(Worker, [Int])] {
        var blocks: [(Worker, [Int])] = []
        startBlocks(shardCount: shardCount, workerCount: workers.count, worker: { workers[$0] }) { worker, block in
            blocks.append((worker, Array(block)))
        }
        return blocks
    }
}

final class ShardAssignmentTests: XCTestCase {
    func testShardsGoOutInContiguousEvenBlocks() {
        var assignment = ShardAssignment<String>()
        let blocks = assignment.start(shardCount: 4, workers: ["a", "b", "c"])
        XCTAssertEqual(blocks.map(\.0), ["a", "b", "c"])
        XCTAssertEqual(blocks.map(\.1), [[0], [1], [2, 3]])
        XCTAssertEqual(assignment.outstanding, [0, 1, 2, 3])
    }

    func testMoreWorkersThanShardsLeavesSomeIdle() {
        var assignment = ShardAssignment<Int>()
        let blocks = assignment.start(shardCount: 2, workers: [1, 2, 3, 4])
        XCTAssertEqual(blocks.map(\.1), [[0], [1]])
    }

    func testOnlyTheOwnerCompletesItsShardsAndOnlyOnce() {
        var assignment = ShardAssignment<String>()
        _ = assignment.start(shardCount: 4, workers: ["a", "b"])
        XCTAssertFalse(assignment.complete([0, 1], by: "b"), "foreign shards accepted")
        XCTAssertTrue(assignment.complete([2, 3], by: "b"))
        XCTAssertFalse(assignment.complete([2, 3], by: "b"), "duplicate accepted")
        XCTAssertFalse(assignment.isComplete)
        XCTAssertFalse(assignment.complete([], by: "a"))
        XCTAssertFalse(assignment.complete([1, 1], by: "a"), "repeated shard id accepted")
    }

    func testALostWorkersShardsMoveToTheLiveOnesAndItsLateReplyIsRefused() {
        var assignment = ShardAssignment<String>()
        _ = assignment.start(shardCount: 6, workers: ["a", "b", "c"])
        XCTAssertTrue(assignment.complete([0, 1], by: "a"))
        let moved = assignment.reassign(from: "b", to: ["a", "c"])
        XCTAssertEqual(moved.map(\.0), ["a", "c"])
        XCTAssertEqual(moved.map(\.1), [[2], [3]])
        XCTAssertFalse(assignment.complete([2, 3], by: "b"), "a lost worker's late reply was counted")
        XCTAssertTrue(assignment.complete([2], by: "a"))
        XCTAssertTrue(assignment.complete([3], by: "c"))
        XCTAssertTrue(assignment.complete([4, 5], by: "c"))
        XCTAssertTrue(assignment.isComplete)
    }
}

final class ShardAssignmentOrphanTests: XCTestCase {
    func testShardsOfTheLastWorkerWaitForANewcomer() {
        var assignment = ShardAssignment<String>()
        _ = assignment.start(shardCount: 3, workers: ["a"])
        XCTAssertEqual(assignment.reassign(from: "a", to: []).count, 0)
        XCTAssertEqual(assignment.orphans, [0, 1, 2])
        XCTAssertTrue(assignment.hasOrphans)
        XCTAssertFalse(assignment.complete([0, 1, 2], by: "a"), "the lost worker's late reply was counted")
        let adopted = assignment.adoptOrphans(by: ["b"])
        XCTAssertEqual(adopted.map(\.1), [[0, 1, 2]])
        XCTAssertEqual(assignment.orphans, [])
        XCTAssertFalse(assignment.hasOrphans)
        XCTAssertTrue(assignment.complete([0, 1, 2], by: "b"))
        XCTAssertTrue(assignment.isComplete)
    }
}
