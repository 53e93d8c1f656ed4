import Foundation
import Wire
import XCTest

final class InterruptTests: XCTestCase {
    /// The signal comes only while the receive is asleep in its wait, and
    /// again each time it is seen asleep: a signal that lands just as libzmq
    /// wakes for its own traffic (a new connection's handshake) interrupts
    /// nothing. A receive that swallowed EINTR would wait out its 30 s and
    /// return nil, so a stop request would wait as long.
    func testASignalDuringReceiveSurfacesAsInterrupted() throws {
        let pair = try RouterDealerPair()
        let previous = signal(SIGUSR1) { _ in }
        defer { signal(SIGUSR1, previous) }
        let receiver = pthread_self()
        let frames = ZMQFrames()
        let receives: [(String, () throws -> Void)] = [
            ("receive", { _ = try pair.router.receive(timeoutMilliseconds: 30_000) }),
            ("receive(into:)", { _ = try pair.router.receive(into: frames, timeoutMilliseconds: 30_000) }),
        ]
        for (name, receive) in receives {
            let signaller = WhenBlocked(repeating: true) { pthread_kill(receiver, SIGUSR1) }
            XCTAssertThrowsError(try receive(), name) { error in
                XCTAssertEqual((error as? ZMQError)?.isInterrupted, true, "\(name): \(error)")
            }
            XCTAssertTrue(signaller.finish(), "\(name) never waited")
        }
    }
}
