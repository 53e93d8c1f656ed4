#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a step's launch costs, for the benchmark: when the coordinator
/// sent a worker its shards, when the worker was ready for them (its last
/// step done), and when its compute started. Off unless
/// DPTRAIN_LAUNCH_TRACE names a file; then every process of the run (the
/// variable reaches spawned workers) appends one line an event:
/// `EVENT STEP PID NANOSECONDS`, EVENT being `sent`, `ready` or `start`.
/// CLOCK_MONOTONIC is one clock for every process of a machine, so the
/// differences mean something on one host only.
public enum StepLaunchTrace {
    public enum Event: String {
        case sent, ready, start
    }

    /// The file, opened once for appending: each line is one write(2),
    /// which O_APPEND keeps whole among the processes.
    private static let file: Int32 = {
        guard let path = getenv("DPTRAIN_LAUNCH_TRACE"), path.pointee != 0 else { return -1 }
        return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    }()

    public static var isOn: Bool { file >= 0 }

    public static func mark(_ event: Event, step: UInt64) {
        guard isOn else { return }
        let line = "\(event.rawValue) \(step) \(getpid()) \(monotonicNanoseconds())\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(file, $0.baseAddress, $0.count - 1) }
    }
}
