import Clock
import XCTest

final class DeadlineTests: XCTestCase {
    func testTheClockNeverRunsBackwards() {
        var last = monotonicNanoseconds()
        for _ in 0..<10_000 {
            let now = monotonicNanoseconds()
            XCTAssertGreaterThanOrEqual(now, last)
            last = now
        }
    }

    func testAPassedDeadlineHasNothingLeft() {
        let deadline = Deadline(milliseconds: 0)
        XCTAssertTrue(deadline.hasPassed)
        XCTAssertEqual(deadline.remainingMilliseconds, 0)
        XCTAssertTrue(Deadline(milliseconds: -5).hasPassed, "a negative wait is no wait, not a wrap-around")
    }

    func testRemainingTimeIsRoundedUpAndNeverMoreThanAsked() {
        let deadline = Deadline(milliseconds: 60_000)
        XCTAssertFalse(deadline.hasPassed)
        let remaining = deadline.remainingMilliseconds
        XCTAssertLessThanOrEqual(remaining, 60_000)
        // Rounded up: a wait of that long does not wake just before the deadline.
        XCTAssertGreaterThan(remaining, 0)
        XCTAssertEqual(Deadline(seconds: 1.5).remainingMilliseconds > 1_000, true)
    }
}
