import CZeroMQ
import Foundation
import Wire
import XCTest

/// CURVE keys against libzmq's own Z85 and key derivation, and a CURVE
/// handshake through the ZAP handler on real sockets.
final class CurveTests: XCTestCase {
    func testZ85RoundTripsAgainstLibzmq() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var text = [CChar](repeating: 0, count: 41)
            XCTAssertNotNil(zmq_z85_encode(&text, bytes, 32))
            let key = CurveKey(bytes: bytes)
            XCTAssertEqual(key.z85, String(cString: text))
            XCTAssertEqual(CurveKey(z85: key.z85)?.bytes, bytes)
        }
    }

    func testGeneratedPairsMatchLibzmqsDerivation() throws {
        let pair = try CurveKeyPair.generate()
        var derived = [CChar](repeating: 0, count: 41)
        XCTAssertEqual(zmq_curve_public(&derived, pair.secretKey.z85), 0)
        XCTAssertEqual(pair.publicKey.z85, String(cString: derived))
        XCTAssertEqual(try CurveKeyPair(secretKey: pair.secretKey).publicKey, pair.publicKey)
    }

    func testMalformedKeysAreRejected() {
        XCTAssertNil(CurveKey(z85: String(repeating: "a", count: 39)))
        XCTAssertNil(CurveKey(z85: String(repeating: "a", count: 41)))
        XCTAssertNil(CurveKey(z85: String(repeating: "a", count: 39) + " "))
        XCTAssertNil(CurveKey(z85: String(repeating: "a", count: 39) + "\""))
        XCTAssertNotNil(CurveKey(z85: String(repeating: "a", count: 40)))
    }

    /// Only a client whose key is allowed gets a message through; the other
    /// is refused in the handshake and the handler says so.
    func testZAPHandlerLetsInOnlyAllowedKeys() throws {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate(), friend = try CurveKeyPair.generate(), stranger = try CurveKeyPair.generate()
        let refused = LockedList()
        let zap = try ZAPHandler(context: context, allowed: [friend.publicKey]) { request, _ in
            refused.append(request.publicKey?.z85 ?? "none")
        }
        defer { zap.stop() }
        let pull = try ZMQSocket(context: context, kind: .pull)
        try pull.setCurveServer(server, domain: "test")
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        func push(_ keys: CurveKeyPair, _ text: String) throws -> ZMQSocket {
            let socket = try ZMQSocket(context: context, kind: .push)
            try socket.setCurveClient(keys, serverKey: server.publicKey)
            try socket.connect(endpoint)
            try? socket.send([try ZMQMessage(copying: Array(text.utf8))])
            return socket
        }
        let strangerSocket = try push(stranger, "stranger")
        let friendSocket = try push(friend, "friend")
        var got: [String] = []
        while let frames = try pull.receive(timeoutMilliseconds: 1_000) { got.append(String(decoding: frames[0].bytes, as: UTF8.self)) }
        XCTAssertEqual(got, ["friend"])
        XCTAssertEqual(refused.items, [stranger.publicKey.z85])
        strangerSocket.close()
        friendSocket.close()
        pull.close()
    }
}

private final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ item: String) { lock.withLock { list.append(item) } }
    var items: [String] { lock.withLock { list } }
}
