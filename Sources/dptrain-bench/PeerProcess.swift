import Clock
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The far end of a benchmark: this same executable started again as a
/// real OS process (a `*-peer` mode), so every message crosses a process
/// boundary as it does between dptrain's coordinator and workers. Peers
/// exit on their own when told to or when their waits time out; `stop`
/// only makes sure none outlives the benchmark.
final class PeerProcess {
    private let process = Process()

    init(arguments: [String]) throws {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
    }

    /// Waits up to `grace` seconds for the peer to exit, then kills it.
    func stop(grace: Double = 5) {
        let deadline = Deadline(seconds: grace)
        while process.isRunning, !deadline.hasPassed { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
