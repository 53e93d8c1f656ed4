import Foundation
import Wire
import XCTest

/// Counts deinits, so a test can see that an owner was released exactly once.
private final class ReleaseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var releases = 0
    var count: Int { lock.withLock { releases } }
    func increment() { lock.withLock { releases += 1 } }
}

/// Owns a buffer handed to libzmq without a copy.
private final class BufferOwner {
    let buffer: UnsafeMutableRawBufferPointer
    let counter: ReleaseCounter

    init(count: Int, counter: ReleaseCounter) {
        buffer = .allocate(byteCount: count, alignment: 16)
        for index in 0..<count { buffer[index] = UInt8(truncatingIfNeeded: index) }
        self.counter = counter
    }

    deinit {
        counter.increment()
        buffer.deallocate()
    }
}

final class MessageTests: XCTestCase {
    func testNoCopySendReleasesItsOwnerExactlyOnce() throws {
        let counter = ReleaseCounter()
        weak var weakOwner: BufferOwner?
        try {
            let pair = try RouterDealerPair()
            let owner = BufferOwner(count: 50_000, counter: counter)
            weakOwner = owner
            let message = try ZMQMessage(noCopy: UnsafeRawBufferPointer(owner.buffer), owner: owner)
            try pair.dealer.send([message, try message.sharedCopy()])
            let routed = try XCTUnwrap(pair.router.receiveRouted(timeoutMilliseconds: 5_000))
            XCTAssertEqual(routed.frames.map(\.bytes), [Array(owner.buffer), Array(owner.buffer)])
            pair.dealer.close()
            pair.router.close()
        }()
        // The context is gone, so libzmq has dropped every reference to the buffer.
        XCTAssertNil(weakOwner)
        XCTAssertEqual(counter.count, 1)
    }

    func testNoCopyMessageNeverSentReleasesItsOwner() throws {
        let counter = ReleaseCounter()
        do {
            let owner = BufferOwner(count: 64, counter: counter)
            let message = try ZMQMessage(noCopy: UnsafeRawBufferPointer(owner.buffer), owner: owner)
            XCTAssertEqual(message.count, 64)
        }
        XCTAssertEqual(counter.count, 1)
    }

    func testSharedCopySharesTheBuffer() throws {
        let message = try ZMQMessage(copying: Array(repeating: UInt8(3), count: 4096))
        let copy = try message.sharedCopy()
        XCTAssertEqual(copy.count, 4096)
        XCTAssertEqual(copy.bytes, message.bytes)
        let original = message.withUnsafeBytes { $0.baseAddress }
        let shared = copy.withUnsafeBytes { $0.baseAddress }
        XCTAssertEqual(original, shared, "a shared copy must not copy the data")
    }

    func testSizedMessageIsWrittenInPlace() throws {
        let message = try ZMQMessage(size: 16)
        message.withUnsafeMutableElements(of: Float.self) { floats in
            for index in floats.indices { floats[index] = Float(index) + 0.5 }
        }
        XCTAssertEqual(message.withUnsafeElements(of: Float.self) { Array($0) }, [0.5, 1.5, 2.5, 3.5])
        XCTAssertEqual(try ZMQMessage(copying: [1, 2]).bytes, [1, 2])
        XCTAssertEqual(ZMQMessage().count, 0)
    }

    func testMisalignedFramesAreReadAndWrittenThroughACopy() throws {
        let counter = ReleaseCounter()
        let owner = BufferOwner(count: 8 * 4 + 1, counter: counter)
        let values: [Int64] = [1, -2, 1 << 40, Int64.min]
        let misaligned = UnsafeMutableRawBufferPointer(rebasing: owner.buffer[1...])
        values.withUnsafeBytes { misaligned.copyMemory(from: $0) }
        let message = try ZMQMessage(noCopy: UnsafeRawBufferPointer(misaligned), owner: owner)
        XCTAssertEqual(message.withUnsafeElements(of: Int64.self) { Array($0) }, values)
        message.withUnsafeMutableElements(of: Int64.self) { $0[0] = 99 }
        XCTAssertEqual(message.withUnsafeElements(of: Int64.self) { $0[0] }, 99)
        XCTAssertNil(message.elementsInPlace(of: Int64.self), "a misaligned frame has no Int64s in place")
    }

    func testAlignedFrameGivesItsElementsInPlace() throws {
        let message = try ZMQMessage(size: 4 * 8)
        let values = try XCTUnwrap(message.elementsInPlace(of: Int64.self))
        XCTAssertEqual(values.count, 4)
        for index in values.indices { values[index] = Int64(index) - 2 }
        XCTAssertEqual(message.withUnsafeElements(of: Int64.self) { Array($0) }, [-2, -1, 0, 1], "written into the frame itself")
    }
}
