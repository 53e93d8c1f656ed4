/// Checks for the kinds' decoders: frame counts and bulk frame lengths.
enum FrameCheck {
    /// `bulk` is every frame after the header; the error counts the header too.
    static func count(_ bulk: ArraySlice<ZMQMessage>, is expected: Int, for kind: WireMessageKind) throws {
        guard bulk.count == expected else {
            throw ProtocolError.wrongFrameCount(kind: "\(kind)", expected: expected + 1, actual: bulk.count + 1)
        }
    }

    static func bytes(_ frame: ZMQMessage, are expected: Int, _ what: @autoclosure () -> String) throws {
        guard frame.count == expected else {
            throw ProtocolError.shapeMismatch(what: what(), expected: expected, actual: frame.count)
        }
    }

    /// `min...max`, written so that limits with max < min reject everything instead of trapping.
    static func range(_ value: Int, _ min: Int, _ max: Int, _ what: @autoclosure () -> String) throws {
        guard value >= min && value <= max else {
            throw ProtocolError.outOfRange(what: what(), value: value, min: min, max: max)
        }
    }

    /// `count × size`, refusing instead of trapping when limits are so large that the product overflows.
    static func product(_ count: Int, _ size: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else {
            throw ProtocolError.outOfRange(what: what(), value: count, min: 0, max: Int.max / Swift.max(1, size))
        }
        return bytes
    }
}
