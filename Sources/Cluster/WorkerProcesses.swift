import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Worker OS processes that `simulate` starts from its own executable and
/// is responsible for: none outlives the simulation. Each worker also
/// watches its parent (DPTRAIN_PARENT_PID) and exits if the parent dies,
/// which covers the parent being killed with SIGKILL.
public final class WorkerProcesses {
    private var processes: [Process] = []

    public init() {}

    public func spawn(count: Int, arguments: [String]) throws {
        let executable = try Self.ownExecutable()
        var environment = ProcessInfo.processInfo.environment
        environment["DPTRAIN_PARENT_PID"] = String(getpid())
        for _ in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["worker"] + arguments
            process.environment = environment
            try process.run()
            processes.append(process)
        }
    }

    /// Waits up to `grace` seconds for the workers to exit on their own
    /// (after a shutdown message), then kills any left and reaps them all.
    public func stopAll(grace: Double) {
        let deadline = Date().addingTimeInterval(grace)
        while processes.contains(where: \.isRunning), Date() < deadline { usleep(20_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        processes.removeAll()
    }

    static func ownExecutable() throws -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }
}
