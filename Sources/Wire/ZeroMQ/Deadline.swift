#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock, so waits that loop (e.g. after a
/// spurious wake-up) still end on time and wall-clock jumps do not matter.
struct Deadline {
    private let end: UInt64

    init(milliseconds: Int) {
        end = Deadline.nowNanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000
    }

    var remainingMilliseconds: Int {
        let now = Deadline.nowNanoseconds()
        guard now < end else { return 0 }
        return Int((end - now + 999_999) / 1_000_000)
    }

    private static func nowNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
