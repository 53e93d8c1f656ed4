import Foundation
import Wire
import XCTest

final class PollerTests: XCTestCase {
    func testPollReportsOnlyReadySocketsAndTimesOut() throws {
        let first = try RouterDealerPair()
        let second = try RouterDealerPair()
        var poller = ZMQPoller()
        XCTAssertEqual(poller.add(first.router), 0)
        XCTAssertEqual(poller.add(second.router), 1)

        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 100), [], "nothing was sent: a timeout")

        try second.dealer.send(frames([[1]]))
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 5_000), [1])
        XCTAssertNotNil(try second.router.tryReceiveRouted())
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 0), [])
    }

    /// The byte is written only once the poll is asleep in its wait: a poll
    /// that did not wait, or did not wake for it, returns no item.
    func testPollWakesForAFileDescriptorWrittenWhileItWaits() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        let pair = try RouterDealerPair()
        var poller = ZMQPoller()
        poller.add(pair.router)
        let signalIndex = poller.add(fileDescriptor: fds[0])
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 50), [])
        let writeEnd = fds[1]
        let writer = WhenBlocked {
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 30_000), [signalIndex])
        XCTAssertTrue(writer.finish(), "the poll never waited")
    }

    func testPollingAClosedSocketThrows() throws {
        let pair = try RouterDealerPair()
        var poller = ZMQPoller()
        poller.add(pair.dealer, events: [.readable, .writable])
        pair.dealer.close()
        XCTAssertThrowsError(try poller.poll(timeoutMilliseconds: 0))
    }
}
