/// Why a message could not be decoded (or encoded). Every case says what was
/// wrong and by how much, in one line, so a log names the offending field.
public enum ProtocolError: Error, CustomStringConvertible, Equatable {
    /// A header field or string ran past the end of its frame.
    case truncated(what: String, needed: Int, available: Int)
    /// A header frame longer than its fields, or a string over the limit.
    case oversized(what: String, size: Int, limit: Int)
    case badMagic(found: [UInt8])
    case versionMismatch(theirs: UInt16, ours: UInt16)
    case unknownKind(UInt8)
    case reservedByte(UInt8)
    /// Frame counts include the header frame.
    case wrongFrameCount(kind: String, expected: Int, actual: Int)
    /// A bulk frame whose byte count disagrees with the shape the header and the limits give.
    case shapeMismatch(what: String, expected: Int, actual: Int)
    case outOfRange(what: String, value: Int, min: Int, max: Int)
    case invalidUTF8(what: String)
    /// Work and gradients carry shapes that only a welcomed peer knows.
    case shapesUnknown(kind: String)
    /// A CURVE public key field that is neither empty nor a valid 40-character Z85 key.
    case invalidKey(what: String)
    /// A probability-like field (dropout, label smoothing) outside [0, 1).
    case notARate(what: String, value: Float)
    /// A norm (ring done's gradient norm) that is negative, infinite or NaN.
    case notANorm(what: String, value: Double)

    public var description: String {
        switch self {
        case let .truncated(what, needed, available):
            return "truncated \(what): needs \(needed) bytes, has \(available) (\(needed - available) short)"
        case let .oversized(what, size, limit):
            return "oversized \(what): \(size) bytes, at most \(limit) allowed (\(size - limit) over)"
        case let .badMagic(found):
            let shown = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "bad magic: expected \"DPTR\" (44 50 54 52), found [\(shown)]"
        case let .versionMismatch(theirs, ours):
            return "protocol version mismatch: peer speaks version \(theirs), this build speaks \(ours)"
        case let .unknownKind(kind):
            return "unknown message kind \(kind)"
        case let .reservedByte(value):
            return "reserved header byte is \(value), must be 0"
        case let .wrongFrameCount(kind, expected, actual):
            return "\(kind) message has \(actual) frames, expected \(expected)"
        case let .shapeMismatch(what, expected, actual):
            let gap = actual > expected ? "\(actual - expected) too many" : "\(expected - actual) too few"
            return "\(what): expected \(expected) bytes, got \(actual) (\(gap))"
        case let .outOfRange(what, value, min, max):
            // A hostile value may lie a whole Int's range away: the
            // distance is taken in UInt, where it always fits.
            let gap = value < min ? "\(UInt(bitPattern: min &- value)) below" : "\(UInt(bitPattern: value &- max)) above"
            return "\(what) is \(value), allowed \(min)...\(max) (\(gap))"
        case let .invalidKey(what):
            return "\(what) is not a 40-character Z85 CURVE key"
        case let .notARate(what, value):
            return "\(what) is \(value), allowed [0, 1)"
        case let .notANorm(what, value):
            return "\(what) is \(value), must be finite and not negative"
        case let .invalidUTF8(what):
            return "\(what) is not valid UTF-8"
        case let .shapesUnknown(kind):
            return "cannot decode \(kind) before the model shapes are known (not yet welcomed)"
        }
    }
}
