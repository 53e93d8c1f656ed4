import Foundation
import Wire
import XCTest

final class SocketTests: XCTestCase {
    func testBindReturnsTheRealPort() throws {
        let pair = try RouterDealerPair()
        XCTAssertTrue(pair.endpoint.hasPrefix("tcp://127.0.0.1:"))
        let port = Int(pair.endpoint.split(separator: ":").last ?? "")
        XCTAssertNotNil(port)
        XCTAssertGreaterThan(port ?? 0, 0)
    }

    func testRouterDealerMultipartRoundTripOverTCP() throws {
        try assertRoundTrip(try RouterDealerPair())
    }

    func testRouterDealerMultipartRoundTripOverIPC() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "ipc://" + directory.appendingPathComponent("wire.sock").path
        let pair = try RouterDealerPair(bindTo: endpoint)
        XCTAssertEqual(pair.endpoint, endpoint)
        try assertRoundTrip(pair)
    }

    private func assertRoundTrip(_ pair: RouterDealerPair) throws {
        let parts: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 100_000)]
        try pair.dealer.send(frames(parts))
        let routed = try XCTUnwrap(pair.router.receiveRouted(timeoutMilliseconds: 5_000))
        XCTAssertEqual(routed.peer, PeerID(Array("worker-1".utf8)))
        XCTAssertEqual(routed.frames.map(\.bytes), parts)
        XCTAssertEqual(routed.frames.map(\.hasMore), [true, true, false])

        try pair.router.send(to: routed.peer, frames([[9], [8, 7]]))
        let reply = try XCTUnwrap(pair.dealer.receive(timeoutMilliseconds: 5_000))
        XCTAssertEqual(reply.map(\.bytes), [[9], [8, 7]])
    }

    func testReceiveTimesOutWithNilWhenNothingArrives() throws {
        let pair = try RouterDealerPair()
        XCTAssertNil(try pair.router.receiveRouted(timeoutMilliseconds: 150))
        XCTAssertFalse(try pair.router.receive(into: ZMQFrames(), timeoutMilliseconds: 150))
        XCTAssertNil(try pair.dealer.tryReceive())
        XCTAssertNil(try pair.dealer.receive(timeoutMilliseconds: 0))
    }

    /// The message is sent only once the receive is asleep in its wait: a
    /// receive that did not wait, or did not wake for it, returns nil.
    func testReceiveWaitsForAMessageSentWhileItWaits() throws {
        let pair = try RouterDealerPair()
        // The dealer is the other thread's until `finish`.
        let sender = WhenBlocked { try? pair.dealer.send(frames([[5, 6]])) }
        let routed = try pair.router.receiveRouted(timeoutMilliseconds: 30_000)
        XCTAssertTrue(sender.finish(), "the receive never waited")
        XCTAssertEqual(routed?.frames.map(\.bytes), [[5, 6]])

        let received = ZMQFrames()
        let again = WhenBlocked { try? pair.dealer.send(frames([[7]])) }
        XCTAssertTrue(try pair.router.receive(into: received, timeoutMilliseconds: 30_000))
        XCTAssertTrue(again.finish(), "the receive never waited")
        XCTAssertEqual(received.received.dropFirst().map(\.bytes), [[7]])
    }

    func testRouterMandatoryRejectsAnUnknownPeer() throws {
        let pair = try RouterDealerPair()
        XCTAssertThrowsError(try pair.router.send(to: PeerID([0xde, 0xad]), frames([[1]]))) { error in
            XCTAssertEqual((error as? ZMQError)?.isHostUnreachable, true, "\(error)")
        }
    }

    func testSendingDoesNotConsumeTheMessage() throws {
        let pair = try RouterDealerPair()
        let message = try ZMQMessage(copying: Array(0..<200).map(UInt8.init))
        try pair.dealer.send([message])
        try pair.dealer.send([message])
        XCTAssertEqual(message.count, 200)
        for _ in 0..<2 {
            let routed = try XCTUnwrap(pair.router.receiveRouted(timeoutMilliseconds: 5_000))
            XCTAssertEqual(routed.frames.first?.bytes, message.bytes)
        }
    }

    func testTooManyFramesAreDrainedAndReported() throws {
        let pair = try RouterDealerPair()
        try pair.dealer.send(frames(Array(repeating: [1], count: 10)))
        try pair.dealer.send(frames([[2]]))
        XCTAssertThrowsError(try pair.router.receiveRouted(timeoutMilliseconds: 5_000, maxFrames: 4)) { error in
            XCTAssertTrue(error is ZMQError, "\(error)")
        }
        let next = try XCTUnwrap(pair.router.receiveRouted(timeoutMilliseconds: 5_000, maxFrames: 4))
        XCTAssertEqual(next.frames.map(\.bytes), [[2]])
    }

    func testClosedSocketThrowsAndCloseIsIdempotent() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, kind: .dealer)
        socket.close()
        socket.close()
        XCTAssertTrue(socket.isClosed)
        XCTAssertThrowsError(try socket.send(frames([[1]])))
        XCTAssertThrowsError(try socket.receive(timeoutMilliseconds: 10))
        XCTAssertThrowsError(try socket.connect("tcp://127.0.0.1:1"))
    }

    func testBadEndpointIsATypedError() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, kind: .router)
        XCTAssertThrowsError(try socket.bind("nonsense://x")) { error in
            let zmq = error as? ZMQError
            XCTAssertNotNil(zmq)
            XCTAssertTrue(zmq?.description.contains("zmq_bind(nonsense://x) failed") ?? false, "\(error)")
        }
    }

    func testEveryOptionSetterIsAccepted() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, kind: .router)
        try socket.setLinger(milliseconds: 0)
        try socket.setRoutingID([1, 2])
        try socket.setSendHighWaterMark(100)
        try socket.setReceiveHighWaterMark(100)
        try socket.setHeartbeatInterval(milliseconds: 500)
        try socket.setHeartbeatTimeout(milliseconds: 1_500)
        try socket.setHeartbeatTTL(milliseconds: 2_000)
        try socket.setRouterMandatory(true)
        try socket.setMaxMessageSize(1 << 20)
        try socket.setImmediate(true)
        try socket.setReceiveTimeout(milliseconds: 100)
        try socket.setSendTimeout(milliseconds: 100)
        XCTAssertThrowsError(try socket.setLinger(milliseconds: Int(Int32.max) + 1))
    }

    func testPubSubAndPushPullDeliver() throws {
        let context = try ZMQContext()
        let push = try ZMQSocket(context: context, kind: .push)
        let pull = try ZMQSocket(context: context, kind: .pull)
        try pull.connect(try push.bind("tcp://127.0.0.1:*"))
        try push.send(frames([[42]]))
        XCTAssertEqual(try pull.receive(timeoutMilliseconds: 5_000)?.map(\.bytes), [[42]])

        let pub = try ZMQSocket(context: context, kind: .pub)
        let sub = try ZMQSocket(context: context, kind: .sub)
        try sub.subscribe([7])
        try sub.connect(try pub.bind("tcp://127.0.0.1:*"))
        // A subscription takes a moment to reach the publisher; keep publishing until one arrives.
        var received: [ZMQMessage]?
        for _ in 0..<50 where received == nil {
            try pub.send(frames([[8, 1]]))
            try pub.send(frames([[7, 1]]))
            received = try sub.receive(timeoutMilliseconds: 100)
        }
        XCTAssertEqual(received?.map(\.bytes), [[7, 1]])
    }
}
