import CZeroMQ

/// CURVE (ZeroMQ RFC 26): authenticated, encrypted connections. Set before
/// bind or connect; a connection's mechanism is fixed at its handshake.
extension ZMQSocket {
    /// This socket accepts CURVE clients only, proving itself with `keys`.
    /// Clients are checked by the ZAP handler of the socket's context, if
    /// one is bound (`ZAPHandler`), under `domain`.
    public func setCurveServer(_ keys: CurveKeyPair, domain: String) throws {
        try Curve.requireAvailable()
        try setCurveInt(ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER", 1)
        try setCurveBytes(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", keys.secretKey.bytes)
        try setCurveBytes(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", Array(domain.utf8))
    }

    /// This socket talks CURVE as `keys` to a server that must hold `serverKey`'s secret.
    public func setCurveClient(_ keys: CurveKeyPair, serverKey: CurveKey) throws {
        try Curve.requireAvailable()
        try setCurveBytes(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", serverKey.bytes)
        try setCurveBytes(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", keys.publicKey.bytes)
        try setCurveBytes(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", keys.secretKey.bytes)
    }

    private func setCurveBytes(_ option: Int32, _ name: String, _ bytes: [UInt8]) throws {
        let handle = try openHandle("zmq_setsockopt(\(name))")
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt(\(name))") }
    }

    private func setCurveInt(_ option: Int32, _ name: String, _ value: Int32) throws {
        let handle = try openHandle("zmq_setsockopt(\(name))")
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(name))")
        }
    }
}
