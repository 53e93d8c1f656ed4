import Cluster
import XCTest

final class RingSnapshotTests: XCTestCase {
    private func values(_ snapshot: RingSnapshot) -> ([Float], [Float]) {
        (Array(snapshot.weights), Array(snapshot.velocity))
    }

    func testABrokenGatherLeavesTheSnapshotWhole() {
        let snapshot = RingSnapshot(parameterCount: 6)
        let old: [Float] = [1, 2, 3, 4, 5, 6]
        old.withUnsafeBufferPointer { snapshot.load(weights: $0, velocity: $0, step: 5) }
        snapshot.startGathering()
        let newer: [Float] = [70, 80, 90]
        newer.withUnsafeBufferPointer { snapshot.gather(0..<3, weights: $0, velocity: $0) }
        // The ring breaks here: the other member's slice never comes.
        XCTAssertEqual(values(snapshot).0, old)
        XCTAssertEqual(values(snapshot).1, old)

        snapshot.startGathering()
        let first: [Float] = [10, 20, 30], second: [Float] = [40, 50, 60]
        let velocity: [Float] = [-1, -2, -3]
        first.withUnsafeBufferPointer { w in velocity.withUnsafeBufferPointer { snapshot.gather(0..<3, weights: w, velocity: $0) } }
        second.withUnsafeBufferPointer { w in velocity.withUnsafeBufferPointer { snapshot.gather(3..<6, weights: w, velocity: $0) } }
        XCTAssertEqual(values(snapshot).0, old, "nothing joins before the commit")
        XCTAssertEqual(snapshot.step, 5)
        snapshot.commit(step: 9)
        XCTAssertEqual(snapshot.step, 9)
        XCTAssertEqual(values(snapshot).0, first + second)
        XCTAssertEqual(values(snapshot).1, velocity + velocity)
    }
}
