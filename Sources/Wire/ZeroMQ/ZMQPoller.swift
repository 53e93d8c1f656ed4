import CZeroMQ

/// Waits until any of several sockets or file descriptors (e.g. a signal
/// pipe) is ready. Items are numbered in the order they were added.
public struct ZMQPoller {
    public struct Events: OptionSet, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(ZMQ_POLLIN))
        public static let writable = Events(rawValue: Int16(ZMQ_POLLOUT))
    }

    private enum Item {
        case socket(ZMQSocket, Events)
        case fileDescriptor(Int32, Events)
    }

    private var items: [Item] = []

    public init() {}

    public var count: Int { items.count }

    /// Adds a socket (kept alive by the poller) and returns its index.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket, events: Events = .readable) -> Int {
        items.append(.socket(socket, events))
        return items.count - 1
    }

    /// Adds a plain file descriptor and returns its index.
    @discardableResult
    public mutating func add(fileDescriptor: Int32, events: Events = .readable) -> Int {
        items.append(.fileDescriptor(fileDescriptor, events))
        return items.count - 1
    }

    /// Waits at most `timeoutMilliseconds` (finite, >= 0) and returns the
    /// indices of the items that are ready, in order; empty on timeout.
    public func poll(timeoutMilliseconds: Int) throws -> [Int] {
        precondition(timeoutMilliseconds >= 0, "poll needs a finite timeout")
        var pollItems = try items.map { item -> zmq_pollitem_t in
            switch item {
            case .socket(let socket, let events):
                return zmq_pollitem_t(
                    socket: try socket.openHandle("zmq_poll"), fd: 0, events: events.rawValue, revents: 0)
            case .fileDescriptor(let fd, let events):
                return zmq_pollitem_t(socket: nil, fd: fd, events: events.rawValue, revents: 0)
            }
        }
        let ready = zmq_poll(&pollItems, Int32(pollItems.count), timeoutMilliseconds)
        guard ready >= 0 else { throw ZMQError.last("zmq_poll") }
        return pollItems.indices.filter { pollItems[$0].revents != 0 }
    }
}
