import CZeroMQ

/// Waits until any of several sockets or file descriptors (e.g. a signal
/// pipe) is ready. Items are numbered in the order they were added. Built
/// once and polled many times, it allocates nothing per poll (`wait`).
public struct ZMQPoller {
    public struct Events: OptionSet, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(ZMQ_POLLIN))
        public static let writable = Events(rawValue: Int16(ZMQ_POLLOUT))
    }

    /// Which items a wait found ready: a bit per item, for up to 64 items.
    public struct Ready: Equatable {
        let bits: UInt64
        public func contains(_ index: Int) -> Bool { index < 64 && bits & (1 << UInt64(index)) != 0 }
        public var isEmpty: Bool { bits == 0 }
    }

    /// The sockets, kept alive by the poller; nil for a file descriptor.
    private var sockets: [ZMQSocket?] = []
    private var pollItems: [zmq_pollitem_t] = []

    public init() {}

    public var count: Int { pollItems.count }

    /// Adds a socket (kept alive by the poller) and returns its index.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket, events: Events = .readable) -> Int {
        precondition(count < 64, "a poller watches at most 64 items")
        sockets.append(socket)
        pollItems.append(zmq_pollitem_t(socket: nil, fd: 0, events: events.rawValue, revents: 0))
        return count - 1
    }

    /// Adds a plain file descriptor and returns its index.
    @discardableResult
    public mutating func add(fileDescriptor: Int32, events: Events = .readable) -> Int {
        precondition(count < 64, "a poller watches at most 64 items")
        sockets.append(nil)
        pollItems.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        return count - 1
    }

    /// Waits at most `timeoutMilliseconds` (finite, >= 0); empty on timeout.
    public mutating func wait(timeoutMilliseconds: Int) throws -> Ready {
        precondition(timeoutMilliseconds >= 0, "poll needs a finite timeout")
        for index in pollItems.indices {
            // Looked up each time, so a socket closed since it was added throws rather than polling a stale handle.
            if let socket = sockets[index] { pollItems[index].socket = try socket.openHandle("zmq_poll") }
            pollItems[index].revents = 0
        }
        let ready = zmq_poll(&pollItems, Int32(pollItems.count), timeoutMilliseconds)
        guard ready >= 0 else { throw ZMQError.last("zmq_poll") }
        var bits: UInt64 = 0
        for index in pollItems.indices where pollItems[index].revents != 0 { bits |= 1 << UInt64(index) }
        return Ready(bits: bits)
    }

    /// The indices of the items that are ready, in order; empty on timeout.
    public mutating func poll(timeoutMilliseconds: Int) throws -> [Int] {
        let ready = try wait(timeoutMilliseconds: timeoutMilliseconds)
        return (0..<count).filter(ready.contains)
    }
}
