import Foundation

/// Who this task is in a job that a cluster launcher started, read from the
/// launcher's environment: Slurm, Open MPI (and PMIx), torchrun-style
/// variables, or a Kubernetes Indexed Job or StatefulSet. Rank 0 is the
/// coordinator, every other rank a worker; the world size counts them all.
/// Explicit flags override the environment; an incomplete or contradictory
/// environment is an error naming the variable. Where several launchers'
/// variables are set (torchrun started by srun), the innermost wins:
/// torchrun's, then MPI's, then Slurm's, then Kubernetes'.
public struct LaunchRole: Equatable, Sendable {
    public var rank: Int
    public var worldSize: Int
    /// Where rank 0 can be reached; nil when the launcher does not say (then
    /// rank 0 publishes its endpoint in the run directory).
    public var coordinatorHost: String?
    public var port: Int?
    /// Which launcher the role was read from ("slurm", "openmpi", "torchrun", "kubernetes", "flags").
    public var launcher: String
    /// The launcher's job id, if it gives one (names the rendezvous file).
    public var jobID: String?

    public init(rank: Int, worldSize: Int, coordinatorHost: String?, port: Int?, launcher: String, jobID: String?) {
        self.rank = rank
        self.worldSize = worldSize
        self.coordinatorHost = coordinatorHost
        self.port = port
        self.launcher = launcher
        self.jobID = jobID
    }

    public var isCoordinator: Bool { rank == 0 }
    public var workers: Int { worldSize - 1 }
}

/// Values given on the command line, which win over the environment.
public struct LaunchOverrides: Sendable {
    public var rank: Int?
    public var worldSize: Int?
    public var coordinatorHost: String?
    public var port: Int?

    public init(rank: Int? = nil, worldSize: Int? = nil, coordinatorHost: String? = nil, port: Int? = nil) {
        self.rank = rank
        self.worldSize = worldSize
        self.coordinatorHost = coordinatorHost
        self.port = port
    }
}

/// The environment was incomplete or contradictory; `variable` says which.
public struct LaunchEnvironmentError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "\(variable): \(problem)" }
}

extension LaunchRole {
    /// Reads the role. `hostName` is this machine's (a StatefulSet's pods are NAME-ORDINAL).
    public static func read(
        environment: [String: String], hostName: String, overrides: LaunchOverrides = LaunchOverrides()
    ) throws -> LaunchRole {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw LaunchEnvironmentError(variable: name, problem: "'\(text)' is not a whole number")
            }
            return value
        }
        var role: LaunchRole
        if let rank = try number("RANK") {
            guard let size = try number("WORLD_SIZE") else {
                throw LaunchEnvironmentError(variable: "WORLD_SIZE", problem: "missing beside RANK")
            }
            role = LaunchRole(rank: rank, worldSize: size, coordinatorHost: environment["MASTER_ADDR"],
                              port: try number("MASTER_PORT"), launcher: "torchrun", jobID: environment["TORCHELASTIC_RUN_ID"])
        } else if let rank = try number("OMPI_COMM_WORLD_RANK") ?? number("PMIX_RANK") {
            guard let size = try number("OMPI_COMM_WORLD_SIZE") ?? number("WORLD_SIZE") else {
                throw LaunchEnvironmentError(variable: "OMPI_COMM_WORLD_SIZE", problem: "missing beside the MPI rank")
            }
            role = LaunchRole(rank: rank, worldSize: size, coordinatorHost: environment["MASTER_ADDR"],
                              port: try number("MASTER_PORT"), launcher: "openmpi", jobID: environment["OMPI_MCA_ess_base_jobid"])
        } else if let rank = try number("SLURM_PROCID") {
            guard let size = try number("SLURM_NTASKS") ?? number("SLURM_NPROCS") else {
                throw LaunchEnvironmentError(variable: "SLURM_NTASKS", problem: "missing beside SLURM_PROCID")
            }
            var host = environment["MASTER_ADDR"]
            if host == nil, let list = environment["SLURM_JOB_NODELIST"] ?? environment["SLURM_NODELIST"] {
                host = try SlurmNodeList.expand(list).first
            }
            // A requeued job keeps its id, and its tasks may read the rendezvous
            // file before the new rank 0 has replaced the old run's: the
            // restart count keeps the runs' files apart.
            let jobID = environment["SLURM_JOB_ID"].map { id in environment["SLURM_RESTART_COUNT"].map { "\(id)-restart-\($0)" } ?? id }
            role = LaunchRole(rank: rank, worldSize: size, coordinatorHost: host, port: try number("MASTER_PORT"),
                              launcher: "slurm", jobID: jobID)
        } else if let rank = try number("JOB_COMPLETION_INDEX") ?? statefulSetOrdinal(hostName, environment) {
            guard let size = try number("WORLD_SIZE") else {
                throw LaunchEnvironmentError(variable: "WORLD_SIZE", problem: "missing: set it to the Job's completions (or the StatefulSet's replicas)")
            }
            role = LaunchRole(rank: rank, worldSize: size, coordinatorHost: environment["MASTER_ADDR"],
                              port: try number("MASTER_PORT"), launcher: "kubernetes", jobID: environment["JOB_NAME"])
        } else if let rank = overrides.rank, let size = overrides.worldSize {
            role = LaunchRole(rank: rank, worldSize: size, coordinatorHost: nil, port: nil, launcher: "flags", jobID: nil)
        } else {
            throw LaunchEnvironmentError(
                variable: "RANK", problem: "no launcher found (none of SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMIX_RANK, RANK, JOB_COMPLETION_INDEX); give --rank and --world-size")
        }
        if let rank = overrides.rank { role.rank = rank }
        if let size = overrides.worldSize { role.worldSize = size }
        if let host = overrides.coordinatorHost { role.coordinatorHost = host }
        if let port = overrides.port { role.port = port }
        guard role.worldSize >= 2 else {
            throw LaunchEnvironmentError(variable: sizeVariable(role.launcher), problem: "is \(role.worldSize): a run needs a coordinator and at least one worker")
        }
        guard role.rank < role.worldSize else {
            throw LaunchEnvironmentError(variable: rankVariable(role.launcher), problem: "is \(role.rank), not below the world size \(role.worldSize)")
        }
        if let port = role.port, !(1...65_535).contains(port) {
            throw LaunchEnvironmentError(variable: "MASTER_PORT", problem: "\(port) is not a TCP port")
        }
        return role
    }

    /// A StatefulSet's pod NAME-ORDINAL, when the environment says it is one (STATEFULSET_NAME).
    private static func statefulSetOrdinal(_ hostName: String, _ environment: [String: String]) -> Int? {
        guard let name = environment["STATEFULSET_NAME"], hostName.hasPrefix(name + "-") else { return nil }
        return Int(hostName.dropFirst(name.count + 1))
    }

    private static func rankVariable(_ launcher: String) -> String {
        ["slurm": "SLURM_PROCID", "openmpi": "OMPI_COMM_WORLD_RANK", "torchrun": "RANK", "kubernetes": "JOB_COMPLETION_INDEX"][launcher] ?? "--rank"
    }

    private static func sizeVariable(_ launcher: String) -> String {
        ["slurm": "SLURM_NTASKS", "openmpi": "OMPI_COMM_WORLD_SIZE", "torchrun": "WORLD_SIZE", "kubernetes": "WORLD_SIZE"][launcher] ?? "--world-size"
    }
}
