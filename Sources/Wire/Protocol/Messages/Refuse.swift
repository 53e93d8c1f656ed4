/// Coordinator -> worker: why the worker may not join. Its layout (header,
/// UInt16 length, UTF-8 reason) and kind number 3 are frozen forever, so a
/// worker of any version can read it; that is also why the decoder ignores
/// the reserved byte and anything after the reason, which a later version
/// may add.
enum RefuseCodec {
    static func encode(reason: String, into header: inout FieldWriter) throws -> BulkFrames {
        try header.write(reason, field: "refuse reason")
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader) throws -> String {
        try header.readString("reason")
    }
}

/// The words a refusal ends with when the worker may simply join again (it
/// was dropped, or spoke while not a member), as opposed to one that ends
/// it (another protocol version). A worker that has just said hello again
/// ignores such refusals: they answer messages it sent before.
public enum RefusalHint {
    public static let joinAgain = "say hello to join"

    public static func mayJoinAgain(_ reason: String) -> Bool { reason.contains(joinAgain) }
}
