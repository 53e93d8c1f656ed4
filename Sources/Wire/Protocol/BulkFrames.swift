/// A message's frames after its header: at most three, held without an
/// array so that encoding a message for `WireSender` allocates nothing.
struct BulkFrames {
    private let first: ZMQMessage?
    private let second: ZMQMessage?
    private let third: ZMQMessage?

    init(_ first: ZMQMessage? = nil, _ second: ZMQMessage? = nil, _ third: ZMQMessage? = nil) {
        self.first = first
        self.second = second
        self.third = third
    }

    var count: Int { first == nil ? 0 : second == nil ? 1 : third == nil ? 2 : 3 }

    subscript(index: Int) -> ZMQMessage {
        switch index {
        case 0: return first!
        case 1: return second!
        default: return third!
        }
    }

    var frames: [ZMQMessage] { (0..<count).map { self[$0] } }
}
