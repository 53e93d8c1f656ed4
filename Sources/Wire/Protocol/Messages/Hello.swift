/// Worker -> coordinator, first message: who is asking to join. The
/// protocol version travels in the header, so a hello of another version
/// fails to decode with `ProtocolError.versionMismatch`, which tells the
/// coordinator to refuse.
public struct Hello: Equatable {
    public var pid: UInt32
    public var workerName: String

    public init(pid: UInt32, workerName: String) {
        self.pid = pid
        self.workerName = workerName
    }

    /// A `version` other than ours exists to test how a coordinator refuses a stranger.
    public func encode(version: UInt16 = wireProtocolVersion) throws -> [ZMQMessage] {
        var header = Header.writer(for: .hello, version: version)
        _ = try encode(into: &header)
        return [try header.frame()]
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        header.write(pid)
        try header.write(workerName, field: "worker name")
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>) throws -> Hello {
        try FrameCheck.count(bulk, is: 0, for: .hello)
        let pid = try header.read(UInt32.self, "pid")
        let name = try header.readString("worker name")
        try header.finish()
        return Hello(pid: pid, workerName: name)
    }
}
