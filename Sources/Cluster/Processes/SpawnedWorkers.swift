import Clock
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Worker OS processes that `simulate` starts from its own executable and
/// is responsible for: none outlives the simulation. Each worker also
/// watches its parent (DPTRAIN_PARENT_PID) and exits if the parent dies,
/// which covers the parent being killed with SIGKILL.
///
/// Started with posix_spawn and reaped here with waitpid, not through
/// Foundation's Process: its background reaper once missed a worker killed
/// with SIGKILL (scripts/chaos.sh), left it a zombie, and `simulate` then
/// hung in waitUntilExit after the run had finished.
public final class SpawnedWorkers {
    private var pids: [pid_t] = []

    public init() {}

    public func spawn(count: Int, arguments: [String]) throws {
        let executable = try Self.ownExecutable().path
        var environment = ProcessInfo.processInfo.environment
        environment["DPTRAIN_PARENT_PID"] = String(getpid())
        let argv = [executable, "worker"] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        for _ in 0..<count { pids.append(try Self.spawn(executable, argv, envp)) }
    }

    /// Waits up to `grace` seconds for the workers to exit on their own
    /// (after a shutdown message), then kills any left and reaps them all.
    public func stopAll(grace: Double) {
        let deadline = Deadline(seconds: grace)
        while true {
            pids.removeAll(where: Self.reapIfExited)
            if pids.isEmpty || deadline.hasPassed { break }
            usleep(20_000)
        }
        for pid in pids { kill(pid, SIGKILL) }
        for pid in pids {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        pids.removeAll()
    }

    /// True once `pid` has exited and is reaped (or is no child of ours).
    private static func reapIfExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || (result < 0 && errno == ECHILD)
    }

    /// The child starts with no signals blocked and every signal at its
    /// default action, whatever this process set up for itself.
    private static func spawn(_ path: String, _ arguments: [String], _ environment: [String]) throws -> pid_t {
        #if canImport(Darwin)
        var attributes: posix_spawnattr_t?
        #else
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, path, nil, &attributes, argv, envp)
        guard status == 0 else {
            throw ClusterError.cannotStartWorker(executable: path, reason: String(cString: strerror(status)))
        }
        return pid
    }

    static func ownExecutable() throws -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }
}
