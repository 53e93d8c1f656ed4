import Foundation
import Wire
import XCTest

final class InterruptTests: XCTestCase {
    func testASignalDuringReceiveSurfacesAsInterrupted() throws {
        let pair = try RouterDealerPair()
        let previous = signal(SIGUSR1) { _ in }
        defer { signal(SIGUSR1, previous) }
        let waiter = pthread_self()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
            pthread_kill(waiter, SIGUSR1)
        }
        let start = monotonicSeconds()
        XCTAssertThrowsError(try pair.router.receive(timeoutMilliseconds: 5_000)) { error in
            XCTAssertEqual((error as? ZMQError)?.isInterrupted, true, "\(error)")
        }
        XCTAssertLessThan(monotonicSeconds() - start, 4.0)
    }
}
