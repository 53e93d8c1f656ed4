import Foundation

/// The ZeroMQ Authentication Protocol (ZeroMQ RFC 27) handler of one
/// context: every CURVE server socket of that context asks it, during each
/// handshake, whether the client's public key may connect. A refused client
/// never completes the handshake, so none of its messages reach the socket.
///
/// libzmq finds the handler by its fixed address, inproc://zeromq.zap.01 in
/// the same context; it must be bound before the server socket accepts
/// anyone (without a handler, libzmq lets every CURVE client in). It answers
/// on a thread of its own, because the handshake waits for the answer.
public final class ZAPHandler: @unchecked Sendable {
    /// What the handshake tells the handler about a client.
    public struct Request: Sendable {
        public var domain: String
        /// The client's IP address (or empty for ipc://).
        public var address: String
        public var mechanism: String
        /// The client's long-term public key (CURVE only).
        public var publicKey: CurveKey?
    }

    public static let endpoint = "inproc://zeromq.zap.01"

    private let socket: ZMQSocket
    private let lock = NSCondition()
    private let patience: TimeInterval
    private var allowedKeys: Set<CurveKey>
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    private let onRefusal: @Sendable (Request, String) -> Void

    /// Accepts CURVE clients whose public key is in `allowed`; calls
    /// `onRefusal` (on the handler's thread) with every refused request and
    /// the reason. `patience`: how long an unknown key may wait for `allow`
    /// to admit it, for peers told of each other at the same moment (a
    /// refused CURVE client does not try again).
    public init(context: ZMQContext, allowed: Set<CurveKey>, patience: TimeInterval = 0,
                onRefusal: @escaping @Sendable (Request, String) -> Void) throws {
        self.patience = patience
        try Curve.requireAvailable()
        socket = try ZMQSocket(context: context, kind: .rep)
        try socket.bind(Self.endpoint)
        allowedKeys = allowed
        self.onRefusal = onRefusal
        let thread = Thread { [self] in serve() }
        thread.name = "zap"
        thread.start()
    }

    /// Replaces the keys allowed from the next handshake on.
    public func allow(_ keys: Set<CurveKey>) {
        lock.withLock {
            allowedKeys = keys
            lock.broadcast()
        }
    }

    /// Stops answering and closes the socket; call before the context ends. Safe to call twice.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        if first { finished.wait() }
    }

    deinit { stop() }

    private func serve() {
        defer {
            socket.close()
            finished.signal()
        }
        while !lock.withLock({ stopping }) {
            // Short waits, so stop() is answered promptly.
            guard let frames = try? socket.receive(timeoutMilliseconds: 100) else { continue }
            guard let reply = try? answer(frames) else { continue }
            try? socket.send(reply)
        }
    }

    private func isAllowed(_ key: CurveKey) -> Bool {
        let deadline = Date(timeIntervalSinceNow: patience)
        lock.lock()
        defer { lock.unlock() }
        while !allowedKeys.contains(key) {
            if stopping || !lock.wait(until: deadline) { return allowedKeys.contains(key) }
        }
        return true
    }

    /// RFC 27's reply: version, request id, status code, status text, user id, metadata.
    private func answer(_ frames: [ZMQMessage]) throws -> [ZMQMessage] {
        func text(_ index: Int) -> String {
            index < frames.count ? String(decoding: frames[index].bytes, as: UTF8.self) : ""
        }
        let requestID = frames.count > 1 ? frames[1].bytes : []
        var request = Request(domain: text(2), address: text(3), mechanism: text(5), publicKey: nil)
        if request.mechanism == "CURVE", frames.count > 6, frames[6].count == CurveKey.byteCount {
            request.publicKey = CurveKey(bytes: frames[6].bytes)
        }
        let refusal: String?
        if text(0) != "1.0" || frames.count < 6 {
            refusal = "malformed ZAP request"
        } else if let key = request.publicKey {
            refusal = isAllowed(key) ? nil : "public key \(key.z85) is not authorised"
        } else {
            refusal = "mechanism \(request.mechanism) is not allowed; CURVE only"
        }
        if let refusal { onRefusal(request, refusal) }
        let status = refusal == nil ? "200" : "400"
        let userID = request.publicKey?.z85 ?? ""
        return try ["1.0", nil, status, refusal ?? "OK", userID, ""].map { field in
            try ZMQMessage(copying: field.map { Array($0.utf8) } ?? requestID)
        }
    }
}
