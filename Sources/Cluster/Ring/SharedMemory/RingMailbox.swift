import Foundation
import SharedMemorySync

/// One ring link between two members on the same host, in shared memory:
/// the left member writes pieces of its sums and weights here, the right
/// member reads them. It replaces the link's sockets for the bulk traffic;
/// ZeroMQ stays the control plane.
///
/// Each piece has a fixed place (its parameter range) and a slot of flags:
/// `ready` holds the stamp (step + 1) of the piece last written there and
/// `consumed` the stamp of the piece last read, so a writer never overwrites
/// a piece its reader has not taken, and a reader never takes a piece of
/// another step. A fresh segment serves each ring, so stamps start at zero
/// with every ring.
///
/// Small values (16 bytes: a member's part of the squared gradient norm)
/// have slots of their own, named by the member whose value it is.
///
/// Layout: a header page, then the slot flags and values, then Int64 sums
/// and Float32 weights of the whole parameter vector (each piece at its own offset).
final class RingMailbox {
    static let magic: UInt64 = 0x3130_4D48_5354_5044 // "DPTSHM01"
    static let slots = 4096
    private static let headerBytes = 4096

    private enum Header {
        static let magic = 0, token = 8, parameterCount = 16
        static let attached = 24, dataBell = 28, consumedBell = 32, readerWaiting = 36, writerWaiting = 40
    }

    let segment: SharedSegment
    let token: UInt64
    let parameterCount: Int
    private let sumReady, sumConsumed, weightsReady, weightsConsumed, valueReady, valueConsumed: UnsafeMutablePointer<UInt64>
    private let valueWords: UnsafeMutablePointer<UInt64>
    private let nonFinite: UnsafeMutablePointer<UInt32>
    private let sums: UnsafeMutablePointer<Int64>
    private let weights: UnsafeMutablePointer<Float>

    static func size(parameterCount: Int) -> Int {
        let flags = slots * (6 * 8 + 16 + 4)
        let flagsEnd = (headerBytes + flags + 4095) / 4096 * 4096
        return flagsEnd + parameterCount * 8 + (parameterCount * 4 + 4095) / 4096 * 4096
    }

    private init(segment: SharedSegment, token: UInt64, parameterCount: Int) {
        self.segment = segment
        self.token = token
        self.parameterCount = parameterCount
        let base = segment.base
        var offset = Self.headerBytes
        func words<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
            defer { offset += count * MemoryLayout<T>.stride }
            return (base + offset).bindMemory(to: T.self, capacity: count)
        }
        sumReady = words(UInt64.self, Self.slots)
        sumConsumed = words(UInt64.self, Self.slots)
        weightsReady = words(UInt64.self, Self.slots)
        weightsConsumed = words(UInt64.self, Self.slots)
        valueReady = words(UInt64.self, Self.slots)
        valueConsumed = words(UInt64.self, Self.slots)
        valueWords = words(UInt64.self, 2 * Self.slots)
        nonFinite = words(UInt32.self, Self.slots)
        offset = (offset + 4095) / 4096 * 4096
        sums = words(Int64.self, parameterCount)
        weights = words(Float.self, parameterCount)
    }

    /// The reader's side: made under a temporary name and renamed into
    /// place once its header is written, so a writer never sees half a header.
    static func create(path: String, token: UInt64, parameterCount: Int) throws -> RingMailbox {
        let temporary = String(path.dropLast(".seg".count)) + ".tmp"
        let segment = try SharedSegment.create(path: temporary, size: size(parameterCount: parameterCount))
        let mailbox = RingMailbox(segment: segment, token: token, parameterCount: parameterCount)
        mailbox.header64(Header.token).pointee = token
        mailbox.header64(Header.parameterCount).pointee = UInt64(parameterCount)
        shm_store64(mailbox.header64(Header.magic), magic)
        guard rename(temporary, path) == 0 else {
            throw SharedMemoryError(path: path, reason: "cannot move into place: \(errnoText())")
        }
        segment.rename(to: path)
        return mailbox
    }

    /// The writer's side: the reader's segment, if it is there yet (nil if
    /// not); refused if it is not what this link expects.
    static func open(path: String, token: UInt64, parameterCount: Int) throws -> RingMailbox? {
        guard access(path, F_OK) == 0 else { return nil }
        let segment = try SharedSegment.open(path: path, size: size(parameterCount: parameterCount))
        let mailbox = RingMailbox(segment: segment, token: token, parameterCount: parameterCount)
        guard shm_load64(mailbox.header64(Header.magic)) == magic,
              mailbox.header64(Header.token).pointee == token,
              mailbox.header64(Header.parameterCount).pointee == UInt64(parameterCount) else {
            throw SharedMemoryError(path: path, reason: "its header is not this link's (another ring's, or not a dptrain segment); refused")
        }
        shm_store32(mailbox.header32(Header.attached), 1)
        return mailbox
    }

    /// Whether the writer has mapped the segment (its file may then go).
    var writerAttached: Bool { shm_load32(header32(Header.attached)) != 0 }

    // MARK: - Writer

    /// Whether slot `message`'s last piece was taken (or there was none).
    func sumSlotFree(_ message: Int) -> Bool { shm_load64(sumConsumed + message) == shm_load64(sumReady + message) }
    func weightsSlotFree(_ message: Int) -> Bool { shm_load64(weightsConsumed + message) == shm_load64(weightsReady + message) }

    /// The whole parameter vector's sums, for a writer to sum its own shards
    /// into in place: a piece already there is then published without a copy.
    var sumStorage: UnsafeMutableBufferPointer<Int64> { UnsafeMutableBufferPointer(start: sums, count: parameterCount) }

    /// Whether every slot's last piece was taken: nothing of the last step is still to be read.
    func allSumSlotsFree(messages: Int) -> Bool { (0..<messages).allSatisfy(sumSlotFree) }

    func putSum(_ values: UnsafeBufferPointer<Int64>, at start: Int, message: Int, step: UInt64, nonFinite flag: Bool) {
        if values.baseAddress != UnsafePointer(sums + start) {
            (sums + start).update(from: values.baseAddress!, count: values.count)
        }
        shm_store32(nonFinite + message, flag ? 1 : 0)
        shm_store64(sumReady + message, step + 1)
        ring(Header.dataBell, waking: Header.readerWaiting)
    }

    func valueSlotFree(_ message: Int) -> Bool { shm_load64(valueConsumed + message) == shm_load64(valueReady + message) }

    func putValue(_ value: SIMD2<UInt64>, message: Int, step: UInt64) {
        valueWords[2 * message] = value[0]
        valueWords[2 * message + 1] = value[1]
        shm_store64(valueReady + message, step + 1)
        ring(Header.dataBell, waking: Header.readerWaiting)
    }

    func putWeights(_ values: UnsafeBufferPointer<Float>, at start: Int, message: Int, step: UInt64) {
        (weights + start).update(from: values.baseAddress!, count: values.count)
        shm_store64(weightsReady + message, step + 1)
        ring(Header.dataBell, waking: Header.readerWaiting)
    }

    // MARK: - Reader

    func sumReady(_ message: Int, step: UInt64) -> Bool { shm_load64(sumReady + message) == step + 1 }
    func weightsReady(_ message: Int, step: UInt64) -> Bool { shm_load64(weightsReady + message) == step + 1 }

    func valueReady(_ message: Int, step: UInt64) -> Bool { shm_load64(valueReady + message) == step + 1 }

    func takeValue(message: Int, step: UInt64) -> SIMD2<UInt64> {
        let value = SIMD2(valueWords[2 * message], valueWords[2 * message + 1])
        shm_store64(valueConsumed + message, step + 1)
        ring(Header.consumedBell, waking: Header.writerWaiting)
        return value
    }

    /// Adds the piece onto `sum` and frees its slot; whether the piece's way had a non-finite gradient.
    func takeSum(addingOnto sum: UnsafeMutableBufferPointer<Int64>, at start: Int, message: Int, step: UInt64) -> Bool {
        let source = sums + start, target = sum.baseAddress!
        for index in 0..<sum.count { target[index] &+= source[index] }
        let flag = shm_load32(nonFinite + message) != 0
        shm_store64(sumConsumed + message, step + 1)
        ring(Header.consumedBell, waking: Header.writerWaiting)
        return flag
    }

    func takeWeights(into target: UnsafeMutableBufferPointer<Float>, at start: Int, message: Int, step: UInt64) {
        target.baseAddress!.update(from: weights + start, count: target.count)
        shm_store64(weightsConsumed + message, step + 1)
        ring(Header.consumedBell, waking: Header.writerWaiting)
    }

    // MARK: - Waiting

    /// The writer rings `data` after each piece, the reader `consumption`.
    enum Bell {
        case data, consumption

        fileprivate var offsets: (bell: Int, waiting: Int) {
            self == .data ? (Header.dataBell, Header.readerWaiting) : (Header.consumedBell, Header.writerWaiting)
        }
    }

    /// The first half of a sleep: the bell's count now, and the sleeper
    /// announced. The caller re-checks its condition, then `sleep`s (or `wake`s up at once).
    func prepareToSleep(on bell: Bell) -> UInt32 {
        let seen = shm_load32(header32(bell.offsets.bell))
        shm_store32(header32(bell.offsets.waiting), 1)
        return seen
    }

    /// Sleeps until the bell rings after `seen` or `nanoseconds` pass: a
    /// ring between `prepareToSleep` and here changed the word, so the
    /// futex returns at once rather than missing it.
    func sleep(on bell: Bell, seen: UInt32, nanoseconds: Int64) {
        shm_futex_wait(header32(bell.offsets.bell), seen, nanoseconds)
        wake(from: bell)
    }

    func wake(from bell: Bell) { shm_store32(header32(bell.offsets.waiting), 0) }

    private func ring(_ bell: Int, waking waiting: Int) {
        _ = shm_add32(header32(bell), 1)
        if shm_load32(header32(waiting)) != 0 { shm_futex_wake(header32(bell)) }
    }

    private func header64(_ offset: Int) -> UnsafeMutablePointer<UInt64> {
        (segment.base + offset).assumingMemoryBound(to: UInt64.self)
    }

    private func header32(_ offset: Int) -> UnsafeMutablePointer<UInt32> {
        (segment.base + offset).assumingMemoryBound(to: UInt32.self)
    }
}
