#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on CLOCK_MONOTONIC, which never jumps and is one clock for
/// every process of the machine: every timeout, deadline and throughput
/// figure in dptrain is measured with it, never with the wall clock.
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A point on the monotonic clock, so waits that loop (after a spurious
/// wake-up, or message after message) still end on time.
public struct Deadline: Sendable {
    public let nanoseconds: UInt64

    public init(milliseconds: Int) {
        nanoseconds = monotonicNanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000
    }

    public init(seconds: Double) {
        self.init(milliseconds: Int(min(max(0, seconds * 1000), Double(Int32.max))))
    }

    public var hasPassed: Bool { monotonicNanoseconds() >= nanoseconds }

    /// Rounded up, so a wait of this long does not wake just before the deadline.
    public var remainingMilliseconds: Int {
        let now = monotonicNanoseconds()
        guard now < nanoseconds else { return 0 }
        return Int((nanoseconds - now + 999_999) / 1_000_000)
    }
}
