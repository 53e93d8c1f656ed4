#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns SIGINT and SIGTERM into a flag that the coordinator's loop polls,
/// so a stop request ends in a clean shutdown (workers told, files written)
/// instead of the process vanishing mid-write. ZeroMQ's waits return early
/// with EINTR, and every wait has a short deadline, so the flag is seen quickly.
public enum SignalTrap {
    private static var installed = false

    public static func install(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        guard !installed else { return }
        installed = true
        for number in signals {
            signal(number) { caught in caughtSignal = caught }
        }
    }

    /// The first stop signal received, if any.
    public static var caught: Int32? { caughtSignal == 0 ? nil : caughtSignal }

    /// The exit status DESIGN.md gives for a run stopped by `signal`.
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }

    public static func ignoreInterrupts() { signal(SIGINT, SIG_IGN) }
}

private nonisolated(unsafe) var caughtSignal: sig_atomic_t = 0
