/// Heartbeat: header only. Any message counts as a heartbeat; this one is
/// for when there is nothing else to say.
enum HeartbeatCodec {
    static func encode(into header: inout FieldWriter) throws -> BulkFrames {
        BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>) throws {
        try FrameCheck.count(bulk, is: 0, for: .heartbeat)
        try header.finish()
    }
}

/// Shutdown: either side says it is leaving, and why.
enum ShutdownCodec {
    static func encode(reason: String, into header: inout FieldWriter) throws -> BulkFrames {
        try header.write(reason, field: "shutdown reason")
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>) throws -> String {
        try FrameCheck.count(bulk, is: 0, for: .shutdown)
        let reason = try header.readString("reason")
        try header.finish()
        return reason
    }
}
