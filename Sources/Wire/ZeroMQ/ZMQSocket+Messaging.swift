import Clock
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
        let total = frames.count + (prefix == nil ? 0 : 1)
        guard total > 0 else { throw ZMQError.invalidArgument("zmq_msg_send", "no frames to send") }
        // The temporary zmq_msg_t lives on the stack: a send allocates nothing of ours.
        try withUnsafeTemporaryAllocation(of: zmq_msg_t.self, capacity: 1) { buffer in
            let outgoing = buffer.baseAddress!
            func sendPart(_ part: ZMQMessage, _ index: Int) throws {
                zmq_msg_init(outgoing)
                guard zmq_msg_copy(outgoing, part.pointer) == 0 else {
                    zmq_msg_close(outgoing)
                    throw ZMQError.last("zmq_msg_copy")
                }
                let flags = index == total - 1 ? 0 : ZMQ_SNDMORE
                // On success libzmq owns the shared copy and leaves `outgoing` empty.
                guard zmq_msg_send(outgoing, handle, flags) >= 0 else {
                    let error = ZMQError.last("zmq_msg_send(frame \(index) of \(total))")
                    zmq_msg_close(outgoing)
                    throw error
                }
            }
            var index = 0
            if let prefix { try sendPart(prefix, index); index += 1 }
            for frame in frames { try sendPart(frame, index); index += 1 }
        }
    }

    /// Sends an optional routing identity, `header` (copied by libzmq) and
    /// the bulk frames (shared, as `send` does), allocating nothing of ours.
    func send(header: UnsafeRawBufferPointer, bulk: BulkFrames, to peer: PeerID?) throws {
        let handle = try openHandle("zmq_send")
        let more = ZMQ_SNDMORE
        if let peer {
            let sent = peer.bytes.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, more) }
            guard sent >= 0 else { throw ZMQError.last("zmq_send(routing id)") }
        }
        guard zmq_send(handle, header.baseAddress, header.count, bulk.count > 0 ? more : 0) >= 0 else {
            throw ZMQError.last("zmq_send(header)")
        }
        guard bulk.count > 0 else { return }
        try withUnsafeTemporaryAllocation(of: zmq_msg_t.self, capacity: 1) { buffer in
            let outgoing = buffer.baseAddress!
            for index in 0..<bulk.count {
                zmq_msg_init(outgoing)
                guard zmq_msg_copy(outgoing, bulk[index].pointer) == 0 else {
                    zmq_msg_close(outgoing)
                    throw ZMQError.last("zmq_msg_copy")
                }
                guard zmq_msg_send(outgoing, handle, index == bulk.count - 1 ? 0 : more) >= 0 else {
                    let error = ZMQError.last("zmq_msg_send(frame \(index + 1) of \(bulk.count + 1))")
                    zmq_msg_close(outgoing)
                    throw error
                }
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
            // Polling first means no message object is made just to hear "nothing yet".
            guard try waitReadable(timeoutMilliseconds: deadline.remainingMilliseconds) else { return nil }
            if let frames = try tryReceive(maxFrames: maxFrames) { return frames }
            guard deadline.remainingMilliseconds > 0 else { return nil }
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
                if frames.isEmpty && dropped == 0 && zmq_errno() == EAGAIN { return nil }
                throw ZMQError.last("zmq_msg_recv")
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

    /// Receives one whole multipart message into `frames`, reusing its frame
    /// objects, waiting at most `timeoutMilliseconds`; false on timeout. A
    /// steady stream of messages then costs no allocation of ours (see
    /// ZMQFrames). `allowance`: see `tryReceive`.
    public func receive(into frames: ZMQFrames, timeoutMilliseconds: Int, maxFrames: Int = defaultMaxFrames) throws -> Bool {
        try receive(into: frames, timeoutMilliseconds: timeoutMilliseconds, maxFrames: maxFrames, headerIndex: 0, allowance: AnyFrames())
    }

    public func receive<Allowing: FrameAllowing>(
        into frames: ZMQFrames, timeoutMilliseconds: Int, maxFrames: Int = defaultMaxFrames, headerIndex: Int, allowance: Allowing
    ) throws -> Bool {
        precondition(timeoutMilliseconds >= 0, "receive needs a finite timeout")
        let deadline = Deadline(milliseconds: timeoutMilliseconds)
        while true {
            guard try waitReadable(timeoutMilliseconds: deadline.remainingMilliseconds) else { return false }
            if try tryReceive(into: frames, maxFrames: maxFrames, headerIndex: headerIndex, allowance: allowance) { return true }
            guard deadline.remainingMilliseconds > 0 else { return false }
        }
    }

    /// Receives one whole multipart message into `frames` if one is waiting.
    /// The frame at `headerIndex` (after a ROUTER's
    /// routing identity, say) decides how many frames, and how large, the
    /// rest may be (`DecodingLimits.allowance`); any frame beyond is released
    /// as it is read, and the message is reported as an error once drained.
    public func tryReceive(into frames: ZMQFrames, maxFrames: Int = defaultMaxFrames) throws -> Bool {
        try tryReceive(into: frames, maxFrames: maxFrames, headerIndex: 0, allowance: AnyFrames())
    }

    public func tryReceive<Allowing: FrameAllowing>(
        into frames: ZMQFrames, maxFrames: Int = defaultMaxFrames, headerIndex: Int, allowance: Allowing
    ) throws -> Bool {
        let handle = try openHandle("zmq_msg_recv")
        frames.removeAll()
        var dropped = 0, oversized = 0
        var allowed: FrameAllowance?
        repeat {
            let frame = frames.nextSlot()
            guard zmq_msg_recv(frame.pointer, handle, ZMQ_DONTWAIT) >= 0 else {
                if frames.count == 0 && dropped == 0 && zmq_errno() == EAGAIN { return false }
                throw ZMQError.last("zmq_msg_recv")
            }
            let limit = allowed.map { min(maxFrames, headerIndex + $0.frames) } ?? maxFrames
            if frames.count >= limit {
                dropped += 1
            } else if let allowed, frame.count > allowed.bytesPerBulkFrame {
                oversized += 1
                dropped += 1
            } else {
                frames.keepSlot()
                if frames.count == headerIndex + 1 { allowed = allowance.allowance(header: frame) }
            }
            if !frame.hasMore { break }
        } while true
        guard dropped == 0 else {
            let kept = frames.count
            frames.removeAll()
            // The last dropped frame's bytes go now, not at the next message.
            _ = frames.nextSlot()
            let what = allowed.map { "a \($0.kind)" } ?? "a message"
            // Counted without the frames in front of the header (a ROUTER's routing identity).
            let most = (allowed.map { min(maxFrames, headerIndex + $0.frames) } ?? maxFrames) - headerIndex
            let why = oversized > 0
                ? "\(oversized) frame\(oversized == 1 ? "" : "s") over the \(allowed?.bytesPerBulkFrame ?? 0) bytes one may have"
                : "\(kept + dropped - headerIndex) frames, more than the \(most) allowed"
            throw ZMQError(operation: "zmq_msg_recv", code: EMSGSIZE, message: "dropped \(what) of \(why), as they arrived")
        }
        return true
    }

    /// One poll item on the stack rather than a ZMQPoller's arrays.
    private func waitReadable(timeoutMilliseconds: Int) throws -> Bool {
        let handle = try openHandle("zmq_poll")
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let ready = zmq_poll(&item, 1, timeoutMilliseconds)
        guard ready >= 0 else { throw ZMQError.last("zmq_poll") }
        return ready > 0
    }
}
