import Clock
import Foundation
import Wire
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A ROUTER bound to an ephemeral endpoint and a DEALER connected to it, on a private context.
struct RouterDealerPair {
    let context: ZMQContext
    let router: ZMQSocket
    let dealer: ZMQSocket
    let endpoint: String

    init(bindTo endpoint: String = "tcp://127.0.0.1:*", dealerID: [UInt8] = Array("worker-1".utf8)) throws {
        context = try ZMQContext()
        router = try ZMQSocket(context: context, kind: .router)
        dealer = try ZMQSocket(context: context, kind: .dealer)
        try router.setRouterMandatory(true)
        self.endpoint = try router.bind(endpoint)
        try dealer.setRoutingID(dealerID)
        try dealer.connect(self.endpoint)
    }
}

/// A fresh directory for ipc:// endpoints, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("wire-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func frames(_ parts: [[UInt8]]) throws -> [ZMQMessage] {
    try parts.map { try ZMQMessage(copying: $0) }
}

/// Runs `action` on another thread once the calling thread is blocked
/// inside a wait: asleep in poll(2), which every ZeroMQ receive and poll
/// with a timeout comes down to. So a test places an event (a message, a
/// byte on a pipe, a signal) inside a wait by what the waiting thread is
/// doing, never by guessing how long it takes to get there.
final class WhenBlocked {
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = NSLock()
    private var acted = false

    private var stopped = false

    /// `repeating`: act each time the thread is seen asleep, until `finish()`.
    /// For an action whose effect is lost if the thread has just woken (a
    /// signal landing outside the system call), where a message would wait.
    init(repeating: Bool = false, _ action: @escaping () -> Void) {
        let waiter = BlockedThread.current()
        let thread = Thread { [self] in
            while waiter.waitUntilBlockedInPoll(unless: { outcome.withLock { stopped } }) {
                action()
                outcome.withLock { acted = true }
                guard repeating else { break }
                usleep(1_000)
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops the other thread and waits for it; false if the calling thread
    /// never blocked (and `action` never ran).
    func finish() -> Bool {
        outcome.withLock { stopped = true }
        finished.wait()
        return outcome.withLock { acted }
    }
}

/// Another thread's state, as the kernel reports it.
struct BlockedThread {
    #if os(Linux)
    /// The kernel's id of the thread.
    let id: Int

    /// The calling thread: /proc/thread-self links to "PID/task/TID".
    static func current() -> BlockedThread {
        var link = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/thread-self", &link, link.count - 1)
        precondition(length > 0, "no /proc/thread-self")
        let path = String(cString: link)
        return BlockedThread(id: Int(path.split(separator: "/").last ?? "") ?? 0)
    }

    #if arch(x86_64)
    private static let pollCalls: Set<Int> = [7, 271]  // poll, ppoll
    #elseif arch(arm64)
    private static let pollCalls: Set<Int> = [73]  // ppoll
    #else
    private static let pollCalls: Set<Int> = []
    #endif

    /// The system call the thread is blocked in, from /proc/self/task/TID/syscall
    /// ("running" while it runs, else the call's number first).
    private func blockedCall() -> Int? {
        let file = open("/proc/self/task/\(id)/syscall", O_RDONLY)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var text = [UInt8](repeating: 0, count: 512)
        let count = read(file, &text, text.count)
        guard count > 0 else { return nil }
        return Int(String(decoding: text[0..<count].prefix { $0 != 0x20 }, as: UTF8.self))
    }

    /// True once the thread sleeps in a poll (a poll with no timeout left
    /// never sleeps); false after 10 s, or once `stopped` says so.
    func waitUntilBlockedInPoll(unless stopped: () -> Bool = { false }) -> Bool {
        let deadline = Deadline(seconds: 10)
        while !deadline.hasPassed, !stopped() {
            if let call = blockedCall(), Self.pollCalls.contains(call) { return true }
            usleep(200)
        }
        return false
    }
    #else
    static func current() -> BlockedThread { BlockedThread() }

    /// No portable way to see another thread's system call here: a pause
    /// long enough for the thread to reach its wait.
    func waitUntilBlockedInPoll(unless stopped: () -> Bool = { false }) -> Bool {
        usleep(200_000)
        return !stopped()
    }
    #endif
}
