import CZeroMQ

/// Multipart send and receive. All parts of a multipart message arrive
/// together, so only the first part is ever waited for.
extension ZMQSocket {
    /// More frames than any dptrain message has; a peer sending more cannot make us allocate without bound.
    public static let defaultMaxFrames = 64

    /// Sends `frames` as one multipart message, blocking at most the send
    /// timeout. Each frame is sent as a shared copy, so the caller's messages
    /// stay valid and are freed exactly once by their own deinit.
    public func send(_ frames: [ZMQMessage]) throws {
        try send(frames, prefix: nil)
    }

    func send(_ frames: [ZMQMessage], prefix: ZMQMessage?) throws {
        let handle = try openHandle("zmq_msg_send")
        let parts = (prefix.map { [$0] } ?? []) + frames
        guard !parts.isEmpty else { throw ZMQError.invalidArgument("zmq_msg_send", "no frames to send") }
        let outgoing = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { outgoing.deallocate() }
        for (index, part) in parts.enumerated() {
            zmq_msg_init(outgoing)
            guard zmq_msg_copy(outgoing, part.pointer) == 0 else {
                zmq_msg_close(outgoing)
                throw ZMQError.last("zmq_msg_copy")
            }
            let flags = index == parts.count - 1 ? 0 : ZMQ_SNDMORE
            // On success libzmq owns the shared copy and leaves `outgoing` empty.
            guard zmq_msg_send(outgoing, handle, flags) >= 0 else {
                let error = ZMQError.last("zmq_msg_send(frame \(index) of \(parts.count))")
                zmq_msg_close(outgoing)
                throw error
            }
        }
    }

    /// Receives one whole multipart message, waiting at most
    /// `timeoutMilliseconds` (which must be finite, >= 0); nil on timeout.
    /// A message of more than `maxFrames` frames is drained and reported as an error.
    public func receive(timeoutMilliseconds: Int, maxFrames: Int = defaultMaxFrames) throws -> [ZMQMessage]? {
        precondition(timeoutMilliseconds >= 0, "receive needs a finite timeout")
        let deadline = Deadline(milliseconds: timeoutMilliseconds)
        while true {
            if let frames = try tryReceive(maxFrames: maxFrames) { return frames }
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0, try waitReadable(timeoutMilliseconds: remaining) else { return nil }
        }
    }

    /// Receives one whole multipart message if one is waiting; nil otherwise.
    public func tryReceive(maxFrames: Int = defaultMaxFrames) throws -> [ZMQMessage]? {
        let handle = try openHandle("zmq_msg_recv")
        var frames: [ZMQMessage] = []
        var dropped = 0
        repeat {
            let frame = ZMQMessage()
            guard zmq_msg_recv(frame.pointer, handle, ZMQ_DONTWAIT) >= 0 else {
                let error = ZMQError.last("zmq_msg_recv")
                if frames.isEmpty && dropped == 0 && error.isWouldBlock { return nil }
                throw error
            }
            if frames.count < maxFrames { frames.append(frame) } else { dropped += 1 }
            if !frame.hasMore { break }
        } while true
        guard dropped == 0 else {
            throw ZMQError(
                operation: "zmq_msg_recv", code: EMSGSIZE,
                message: "dropped a message of \(maxFrames + dropped) frames, more than the \(maxFrames) allowed")
        }
        return frames
    }

    private func waitReadable(timeoutMilliseconds: Int) throws -> Bool {
        var poller = ZMQPoller()
        poller.add(self)
        return try !poller.poll(timeoutMilliseconds: timeoutMilliseconds).isEmpty
    }
}
