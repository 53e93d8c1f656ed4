import Clock
import Collective
import Foundation
import SharedMemorySync
import Training

/// The bulk traffic of a ring member's links to neighbours on the same
/// host, through shared memory instead of the kernel's sockets: the
/// inbox its left neighbour writes into, the outbox (the right
/// neighbour's inbox) it writes into. A link with no segment stays on
/// ZeroMQ; the control plane always does.
final class SharedRingPath {
    enum Wait {
        case ready
        /// The caller's `idle` check asked to stop (a coordinator message).
        case stopped
        case timedOut
    }

    /// Where this member's inboxes go; nil when this process has no usable
    /// shared memory (it then announces none and every link uses sockets).
    let inboxPrefix: String?
    private let folder: String?
    private var inbox: RingMailbox?
    private var outbox: RingMailbox?
    private var outboxPath: String?
    private var outboxToken: UInt64 = 0
    private var partition = RingPartition(parameterCount: 0, size: 1)
    /// Spinning this long before sleeping catches a neighbour a moment
    /// behind without a futex round trip.
    static let spinNanoseconds: UInt64 = 50_000

    init(output: Output) {
        do {
            let folder = try SharedMemoryFolder.prepare()
            self.folder = folder
            inboxPrefix = SharedMemoryFolder.inboxPrefix(folder: folder)
        } catch {
            output.log("worker: no shared memory with ring neighbours on this host (\(error)); ring links use sockets")
            folder = nil
            inboxPrefix = nil
        }
    }

    /// A new ring: `inboxPath` (empty: none) is made here for the left
    /// neighbour, `outboxPath` (empty: none) is the right neighbour's,
    /// opened at the first send. A coordinator may name only paths in this
    /// user's folder, and an inbox only of this process.
    func connect(inboxPath: String, outboxPath: String, tokens: (left: UInt64, right: UInt64), partition: RingPartition) throws {
        inbox = nil
        outbox = nil
        self.outboxPath = nil
        self.partition = partition
        if !inboxPath.isEmpty {
            guard let prefix = inboxPrefix, inboxPath.hasPrefix(prefix), inboxPath.hasSuffix(".seg"),
                  !inboxPath.dropFirst(prefix.count).contains("/") else {
                throw ClusterError.incompatibleCoordinator("its ring setup names \(inboxPath) as this worker's shared-memory inbox, which is not one this worker makes")
            }
            inbox = try RingMailbox.create(path: inboxPath, token: tokens.left, parameterCount: partition.range.upperBound)
        }
        if !outboxPath.isEmpty {
            guard let folder, outboxPath.hasPrefix(folder + "/"), !outboxPath.dropFirst(folder.count + 1).contains("/") else {
                throw ClusterError.incompatibleCoordinator("its ring setup names \(outboxPath) as the right neighbour's shared-memory inbox, outside this user's folder")
            }
            self.outboxPath = outboxPath
            outboxToken = tokens.right
        }
    }

    var sendsShared: Bool { outboxPath != nil }
    var receivesShared: Bool { inbox != nil }

    // MARK: - Sending

    /// False if the right neighbour did not make its inbox, or take the
    /// slot's last piece, within `limit` nanoseconds.
    func sendSum(
        _ values: UnsafeBufferPointer<Int64>, message: Int, step: UInt64, nonFinite: Bool, limit: UInt64, idle: () -> Void
    ) throws -> Bool {
        guard let mailbox = try outbox(whenFree: { $0.sumSlotFree(message) }, limit: limit, idle: idle) else { return false }
        mailbox.putSum(values, at: start(of: message), message: message, step: step, nonFinite: nonFinite)
        return true
    }

    func sendWeights(
        _ values: UnsafeBufferPointer<Float>, message: Int, step: UInt64, limit: UInt64, idle: () -> Void
    ) throws -> Bool {
        guard let mailbox = try outbox(whenFree: { $0.weightsSlotFree(message) }, limit: limit, idle: idle) else { return false }
        mailbox.putWeights(values, at: start(of: message), message: message, step: step)
        return true
    }

    /// Where this member should sum its shards so that its pieces go to the
    /// right neighbour without a copy: the outbox's sums, once the neighbour
    /// has read every piece of the last step from there. Nil: no shared
    /// outbox, or it did not come free within `limit` (the send then stalls).
    func sumStorage(limit: UInt64, idle: () -> Void) throws -> UnsafeMutableBufferPointer<Int64>? {
        let messages = partition.size * partition.pieces
        return try outbox(whenFree: { $0.allSumSlotsFree(messages: messages) }, limit: limit, idle: idle)?.sumStorage
    }

    /// A small value (16 bytes) in the slot of member `message`.
    func sendValue(_ value: SIMD2<UInt64>, message: Int, step: UInt64, limit: UInt64, idle: () -> Void) throws -> Bool {
        guard let mailbox = try outbox(whenFree: { $0.valueSlotFree(message) }, limit: limit, idle: idle) else { return false }
        mailbox.putValue(value, message: message, step: step)
        return true
    }

    /// The outbox once `isFree` holds for it (the slots about to be written
    /// were read); nil if it is not there or not free within `limit`.
    private func outbox(whenFree isFree: (RingMailbox) -> Bool, limit: UInt64, idle: () -> Void) throws -> RingMailbox? {
        guard let mailbox = try openedOutbox(limit: limit, idle: idle),
              wait(until: { isFree(mailbox) }, mailbox: mailbox, bell: .consumption, limit: limit,
                   idle: { idle(); return false }) == .ready
        else { return nil }
        return mailbox
    }

    /// The right neighbour makes its inbox when its ring setup arrives,
    /// which may be a moment after this member's.
    private func openedOutbox(limit: UInt64, idle: () -> Void) throws -> RingMailbox? {
        if let outbox { return outbox }
        guard let path = outboxPath else { return nil }
        let started = monotonicNanoseconds()
        while true {
            if let mailbox = try RingMailbox.open(path: path, token: outboxToken, parameterCount: partition.range.upperBound) {
                outbox = mailbox
                return mailbox
            }
            if monotonicNanoseconds() - started > limit { return nil }
            idle()
            usleep(100)
        }
    }

    // MARK: - Receiving

    /// Waits for piece `message` of `step`'s sums and adds it onto `sum`;
    /// `nonFinite` tells whether some member on its way had a non-finite gradient.
    func receiveSum(
        message: Int, step: UInt64, addingOnto sum: UnsafeMutableBufferPointer<Int64>, limit: UInt64, idle: () throws -> Bool
    ) rethrows -> (Wait, nonFinite: Bool) {
        let mailbox = inbox!
        let outcome = try wait(until: { mailbox.sumReady(message, step: step) }, mailbox: mailbox, bell: .data, limit: limit, idle: idle)
        guard outcome == .ready else { return (outcome, false) }
        forgetInboxFile()
        return (.ready, mailbox.takeSum(addingOnto: sum, at: start(of: message), message: message, step: step))
    }

    func receiveWeights(
        message: Int, step: UInt64, into weights: UnsafeMutableBufferPointer<Float>, limit: UInt64, idle: () throws -> Bool
    ) rethrows -> Wait {
        let mailbox = inbox!
        let outcome = try wait(until: { mailbox.weightsReady(message, step: step) }, mailbox: mailbox, bell: .data, limit: limit, idle: idle)
        guard outcome == .ready else { return outcome }
        mailbox.takeWeights(into: weights, at: start(of: message), message: message, step: step)
        return .ready
    }

    func receiveValue(message: Int, step: UInt64, limit: UInt64, idle: () throws -> Bool) rethrows -> (Wait, SIMD2<UInt64>) {
        let mailbox = inbox!
        let outcome = try wait(until: { mailbox.valueReady(message, step: step) }, mailbox: mailbox, bell: .data, limit: limit, idle: idle)
        guard outcome == .ready else { return (outcome, .zero) }
        return (.ready, mailbox.takeValue(message: message, step: step))
    }

    /// Once the left neighbour has the inbox mapped, its file has done its
    /// job: removed, nothing is left behind however the processes end.
    private func forgetInboxFile() {
        if let inbox, inbox.writerAttached { inbox.segment.unlinkFile() }
    }

    // MARK: - Waiting

    /// Spins a moment, then sleeps on the mailbox's futex in slices of a
    /// millisecond, calling `idle` between them (heartbeats, the coordinator).
    private func wait(
        until isReady: () -> Bool, mailbox: RingMailbox, bell: RingMailbox.Bell, limit: UInt64, idle: () throws -> Bool
    ) rethrows -> Wait {
        if isReady() { return .ready }
        let started = monotonicNanoseconds()
        while monotonicNanoseconds() - started < Self.spinNanoseconds {
            if isReady() { return .ready }
            shm_cpu_relax()
        }
        while true {
            if isReady() { return .ready }
            if try idle() { return .stopped }
            if monotonicNanoseconds() - started > limit { return .timedOut }
            let seen = mailbox.prepareToSleep(on: bell)
            if isReady() {
                mailbox.wake(from: bell)
                return .ready
            }
            mailbox.sleep(on: bell, seen: seen, nanoseconds: 1_000_000)
        }
    }

    private func start(of message: Int) -> Int {
        partition.piece(message % partition.pieces, of: message / partition.pieces).lowerBound
    }
}
