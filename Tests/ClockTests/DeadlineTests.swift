import Clock
import XCTest

final class DeadlineTests: XCTestCase {
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
        let seconds = Deadline(seconds: 60).remainingMilliseconds
        XCTAssertTrue((1_000...60_000).contains(seconds), "60 s read as \(seconds) ms")
    }
}
