import CZeroMQ

/// Typed setters for the socket options dptrain uses; times are in milliseconds.
extension ZMQSocket {
    public func setLinger(milliseconds: Int) throws {
        try setInt32(ZMQ_LINGER, "ZMQ_LINGER", milliseconds)
    }

    /// The identity a ROUTER peer sees for this socket; set before connect.
    public func setRoutingID(_ bytes: [UInt8]) throws {
        let handle = try openHandle("zmq_setsockopt(ZMQ_ROUTING_ID)")
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, ZMQ_ROUTING_ID, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt(ZMQ_ROUTING_ID)") }
    }

    public func setSendHighWaterMark(_ messages: Int) throws {
        try setInt32(ZMQ_SNDHWM, "ZMQ_SNDHWM", messages)
    }

    /// The kernel's socket buffers (SO_SNDBUF / SO_RCVBUF, capped by the
    /// kernel's net.core.wmem_max / rmem_max). A megabyte message through the
    /// default ~200 KB buffers wakes each side a dozen times.
    public func setKernelBufferSizes(bytes: Int) throws {
        try setInt32(ZMQ_SNDBUF, "ZMQ_SNDBUF", bytes)
        try setInt32(ZMQ_RCVBUF, "ZMQ_RCVBUF", bytes)
    }

    public func setReceiveHighWaterMark(_ messages: Int) throws {
        try setInt32(ZMQ_RCVHWM, "ZMQ_RCVHWM", messages)
    }

    /// How often ZMTP PINGs go out on each connection.
    public func setHeartbeatInterval(milliseconds: Int) throws {
        try setInt32(ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL", milliseconds)
    }

    /// How long without traffic after a PING before the connection is dropped.
    public func setHeartbeatTimeout(milliseconds: Int) throws {
        try setInt32(ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT", milliseconds)
    }

    /// How long the remote peer should wait for our traffic (libzmq rounds to tenths of a second).
    public func setHeartbeatTTL(milliseconds: Int) throws {
        try setInt32(ZMQ_HEARTBEAT_TTL, "ZMQ_HEARTBEAT_TTL", milliseconds)
    }

    /// Makes a ROUTER fail with EHOSTUNREACH instead of silently dropping a message to an unknown peer.
    public func setRouterMandatory(_ on: Bool) throws {
        try setInt32(ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY", on ? 1 : 0)
    }

    /// The largest single frame accepted; a peer that sends more is disconnected by libzmq.
    public func setMaxMessageSize(_ bytes: Int) throws {
        let handle = try openHandle("zmq_setsockopt(ZMQ_MAXMSGSIZE)")
        var value = Int64(bytes)
        guard zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(ZMQ_MAXMSGSIZE)")
        }
    }

    /// Queue messages only to completed connections.
    public func setImmediate(_ on: Bool) throws {
        try setInt32(ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE", on ? 1 : 0)
    }

    /// A TCP connect still pending after this long is abandoned and tried
    /// again (after the reconnect interval) with a fresh SYN; 0: the
    /// system's own retries (a lost SYN is sent again after 1, 3, 7... s).
    public func setConnectTimeout(milliseconds: Int) throws {
        try setInt32(ZMQ_CONNECT_TIMEOUT, "ZMQ_CONNECT_TIMEOUT", milliseconds)
    }

    public func setReceiveTimeout(milliseconds: Int) throws {
        try setInt32(ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO", milliseconds)
    }

    public func setSendTimeout(milliseconds: Int) throws {
        try setInt32(ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO", milliseconds)
    }

    /// A SUB socket receives only messages whose first frame starts with a subscribed prefix.
    public func subscribe(_ prefix: [UInt8] = []) throws {
        let handle = try openHandle("zmq_setsockopt(ZMQ_SUBSCRIBE)")
        let rc = prefix.withUnsafeBytes { zmq_setsockopt(handle, ZMQ_SUBSCRIBE, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt(ZMQ_SUBSCRIBE)") }
    }

    private func setInt32(_ option: Int32, _ name: String, _ value: Int) throws {
        let operation = "zmq_setsockopt(\(name), \(value))"
        let handle = try openHandle(operation)
        guard let narrow = Int32(exactly: value) else {
            throw ZMQError.invalidArgument(operation, "value does not fit in a C int")
        }
        var option32 = narrow
        guard zmq_setsockopt(handle, option, &option32, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last(operation)
        }
    }
}
