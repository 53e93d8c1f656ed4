import Clock
import Cluster
import Foundation
import MLP
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// fuzz: hostile traffic against real dptrain processes over real sockets.
/// Three targets, each a separate OS process of the built `dptrain`:
/// - a coordinator in the middle of training with one honest worker, sent
///   mutated messages of every kind by strangers and by members;
/// - a ring member's inbox, sent mutated ring chunks while its ring trains;
/// - a worker, whose "coordinator" here welcomes it and then sends mutated
///   work, ring and control messages (it is restarted whenever it exits).
/// A target passes if it never dies of a signal (a trap, a crash), the
/// training targets still train, and the coordinator's peak memory stays
/// under `peakLimitMB`. Prints the cases sent, crashes and peak memory.
enum FuzzBenchmark {
    static let peakLimitMB = 1024.0
    static let layers = [784, 32, 10]

    struct Report {
        var cases = 0
        var crashes: [String] = []
        var peakMB = 0.0
    }

    static func run(cases: Int, seed: UInt64) throws -> String {
        let coordinator = try fuzzCoordinator(cases: cases / 2, seed: seed)
        let ring = try fuzzRingMember(cases: cases / 4, seed: seed &+ 1)
        let worker = try fuzzWorker(cases: cases - cases / 2 - cases / 4, seed: seed &+ 2)
        let crashes = coordinator.crashes + ring.crashes + worker.crashes
        for crash in crashes { progress("fuzz: CRASH \(crash)") }
        guard crashes.isEmpty else { throw BenchError("fuzz: \(crashes.count) crash(es); see above") }
        guard coordinator.peakMB <= peakLimitMB else {
            throw BenchError("fuzz: the coordinator's peak memory reached \(coordinator.peakMB) MB (limit \(peakLimitMB))")
        }
        return String(format: "{\"fuzz_cases\": %d, \"fuzz_cases_coordinator\": %d, \"fuzz_cases_ring_member\": %d, \"fuzz_cases_worker\": %d, \"fuzz_crashes\": 0, \"fuzz_peak_rss_mb_coordinator\": %.1f, \"fuzz_peak_rss_mb_ring_member\": %.1f}",
                      coordinator.cases + ring.cases + worker.cases, coordinator.cases, ring.cases, worker.cases,
                      coordinator.peakMB, ring.peakMB)
    }

    // MARK: - Targets

    private static var architecture: Architecture { try! Architecture(layerSizes: layers, activation: .relu) }

    private static var limits: DecodingLimits {
        .run(parameterCount: architecture.parameterCount, inputSize: architecture.inputSize, shardSize: 32)
    }

    private static func trainingFlags(out: String) -> [String] {
        ["--data", "/usr/share/datasets/fashion-mnist", "--layers", layers.map(String.init).joined(separator: ","),
         "--epochs", "1000", "--batch-size", "128", "--heartbeat-ms", "100", "--peer-timeout-ms", "3000",
         "--join-timeout", "60", "--out", out]
    }

    private static func fuzzCoordinator(cases: Int, seed: UInt64) throws -> Report {
        let folder = try SocketFolder()
        let port = try freePort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let coordinator = try Child(["coordinator", "--listen", endpoint, "--workers", "1"] + trainingFlags(out: "\(folder.path)/run"),
                                    log: "\(folder.path)/coordinator.log")
        let worker = try Child(["worker", "--coordinator", endpoint], log: "\(folder.path)/worker.log")
        defer { coordinator.stop(); worker.stop() }
        try coordinator.waitFor("step", orLine: "joined", seconds: 60)
        var mutator = FrameMutator(seed: seed)
        let bases = try coordinatorBases(seed: seed)
        let strangers = try (0..<8).map { index -> ZMQSocket in
            let socket = try ZMQSocket(context: .shared(), kind: .dealer)
            try socket.setSendTimeout(milliseconds: 200)
            try socket.setLinger(milliseconds: 0)
            try socket.connect(endpoint)
            // Half of them join first, so their nonsense is a member's.
            if index % 2 == 0 { try socket.send(Hello(pid: UInt32(index), workerName: "fuzz-\(index)").encode()) }
            return socket
        }
        defer { strangers.forEach { $0.close() } }
        var report = Report()
        while report.cases < cases {
            let socket = strangers[report.cases % strangers.count]
            // Refused members say hello again, as a worker would.
            while let frames = try socket.tryReceive(), case .refuse? = try? WireMessage.decode(frames, limits: limits) {
                try? socket.send(Hello(pid: 7, workerName: "fuzz").encode())
            }
            let base = bases[mutator.below(bases.count)]
            do { try socket.send(try mutator.mutate(base)) } catch let error as ZMQError where error.isWouldBlock {}
            report.cases += 1
            if report.cases % 100_000 == 0 {
                progress("fuzz: coordinator: \(report.cases) of \(cases) cases")
                guard coordinator.isRunning else { break }
            }
        }
        // Still training: an epoch line or a checkpoint step after the storm.
        let metricsBefore = coordinator.count("epoch")
        try coordinator.waitFor("epoch", count: metricsBefore + 1, seconds: 120)
        report.peakMB = coordinator.peakMB()
        if let crash = coordinator.crash() { report.crashes.append("coordinator: \(crash)") }
        if let crash = worker.crash() { report.crashes.append("honest worker: \(crash)") }
        progress(String(format: "fuzz: coordinator survived %d cases, peak RSS %.1f MB", report.cases, report.peakMB))
        return report
    }

    private static func fuzzRingMember(cases: Int, seed: UInt64) throws -> Report {
        let folder = try SocketFolder()
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let coordinator = try Child(
            ["coordinator", "--listen", endpoint, "--workers", "2", "--collective", "ring"] + trainingFlags(out: "\(folder.path)/run"),
            log: "\(folder.path)/coordinator.log")
        let members = try (0..<2).map { try Child(["worker", "--coordinator", endpoint], log: "\(folder.path)/worker-\($0).log") }
        defer { coordinator.stop(); members.forEach { $0.stop() } }
        try coordinator.waitFor("coordinator: ring generation", seconds: 60)
        guard let target = coordinator.firstMatch(after: "takes ring traffic at ") else {
            throw BenchError("fuzz: no ring endpoint in the coordinator's log")
        }
        var mutator = FrameMutator(seed: seed)
        let bases = try ringBases()
        let pushers = try (0..<4).map { _ -> ZMQSocket in
            let socket = try ZMQSocket(context: .shared(), kind: .push)
            try socket.setSendTimeout(milliseconds: 200)
            try socket.setLinger(milliseconds: 0)
            try socket.connect(target)
            return socket
        }
        defer { pushers.forEach { $0.close() } }
        var report = Report()
        while report.cases < cases {
            let base = bases[mutator.below(bases.count)]
            do { try pushers[report.cases % pushers.count].send(try mutator.mutate(base)) } catch let error as ZMQError where error.isWouldBlock {}
            report.cases += 1
            if report.cases % 100_000 == 0 { progress("fuzz: ring member at \(target): \(report.cases) of \(cases) cases") }
        }
        let epochs = coordinator.count("epoch")
        try coordinator.waitFor("epoch", count: epochs + 1, seconds: 120)
        report.peakMB = members.map { $0.peakMB() }.max() ?? 0
        for (index, member) in members.enumerated() {
            if let crash = member.crash() { report.crashes.append("ring member \(index): \(crash)") }
        }
        if let crash = coordinator.crash() { report.crashes.append("ring coordinator: \(crash)") }
        progress(String(format: "fuzz: ring members survived %d cases, peak RSS %.1f MB", report.cases, report.peakMB))
        return report
    }

    private static func fuzzWorker(cases: Int, seed: UInt64) throws -> Report {
        let folder = try SocketFolder()
        let router = try ZMQSocket(context: .shared(), kind: .router)
        try router.setSendTimeout(milliseconds: 200)
        try router.setLinger(milliseconds: 0)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        defer { router.close() }
        var mutator = FrameMutator(seed: seed)
        let welcome = Welcome(
            workerID: 1, shardSize: 32, heartbeatMilliseconds: 100, peerTimeoutMilliseconds: 1_000,
            activation: "relu", loss: "cross-entropy", layerSizes: layers.map(UInt32.init), collective: .central)
        let bases = try workerBases()
        var report = Report()
        var restarts = 0
        while report.cases < cases {
            let worker = try Child(["worker", "--coordinator", endpoint, "--peer-timeout-ms", "1000"],
                                   log: "\(folder.path)/worker-\(restarts).log")
            restarts += 1
            var peer: PeerID?
            let quiet = Deadline(seconds: 10)
            while worker.isRunning, report.cases < cases, !quiet.hasPassed {
                if let (from, frames) = try router.tryReceiveRouted(), case .hello? = try? WireMessage.decode(frames, limits: .beforeWelcome) {
                    peer = from
                    var sent = welcome
                    sent.collective = mutator.below(2) == 0 ? .central : .ring
                    let frames = try WireMessage.welcome(sent).encode()
                    try? router.send(to: from, mutator.below(4) == 0 ? try mutator.mutate(frames) : frames)
                }
                guard let peer else { usleep(1_000); continue }
                let base = bases[mutator.below(bases.count)]
                do { try router.send(to: peer, try mutator.mutate(base)) } catch let error as ZMQError where error.isWouldBlock || error.isHostUnreachable {}
                report.cases += 1
                if report.cases % 100_000 == 0 { progress("fuzz: worker: \(report.cases) of \(cases) cases, \(restarts) starts") }
            }
            worker.stop()
            if let crash = worker.crash() { report.crashes.append("worker (start \(restarts)): \(crash); log \(folder.path)/worker-\(restarts - 1).log") }
            if !report.crashes.isEmpty { break }
        }
        progress("fuzz: workers survived \(report.cases) cases over \(restarts) starts")
        return report
    }

    // MARK: - Well-formed messages to start from

    private static func zeros(_ bytes: Int) throws -> ZMQMessage { try ZMQMessage(copying: [UInt8](repeating: 0, count: bytes)) }

    private static func coordinatorBases(seed: UInt64) throws -> [[ZMQMessage]] {
        let parameters = architecture.parameterCount
        let gradient = try zeros(parameters * 8)
        var bases: [[ZMQMessage]] = []
        for step in [0, 1, 5, 100, UInt64.max] {
            bases.append(try WireMessage.gradient(Gradient(
                step: step, lossSumFixedPoint: 0, correct: 0, sampleCount: 32, computeNanoseconds: UInt64.max,
                shardIDs: [0], gradient: gradient)).encode())
        }
        bases.append(try Hello(pid: 1, workerName: "fuzz").encode())
        bases.append(try WireMessage.heartbeat.encode())
        bases.append(try WireMessage.ringAddress(RingAddress(endpoint: "tcp://127.0.0.1:1")).encode())
        bases.append(try WireMessage.ringDone(RingDone(
            generation: 1, step: 1, status: .updated, lossSumFixedPoint: 0, correct: 0, sampleCount: 32, computeNanoseconds: 1)).encode())
        bases.append(try WireMessage.stateSlice(StateSlice(
            generation: 1, step: 1, start: 0, count: 4, weights: try zeros(16), velocity: try zeros(16))).encode())
        return bases
    }

    private static func ringBases() throws -> [[ZMQMessage]] {
        var bases: [[ZMQMessage]] = []
        for (phase, encoding, bytes) in [(RingChunk.Phase.reduceScatter, RingChunk.Encoding.rawInt64, 8),
                                         (.allGather, .rawFloat, 4)] {
            for generation in [UInt64(1), 2, 50] {
                bases.append(try WireMessage.ringChunk(RingChunk(
                    generation: generation, step: UInt64(generation), phase: phase, round: 0, chunk: 0, nonFinite: false,
                    encoding: encoding, valueCount: 256, values: try zeros(256 * bytes))).encode())
            }
        }
        return bases
    }

    private static func workerBases() throws -> [[ZMQMessage]] {
        let parameters = architecture.parameterCount
        let weights = try zeros(parameters * 4)
        var bases: [[ZMQMessage]] = []
        for samples in [UInt32(1), 32] {
            bases.append(try WireMessage.work(Work(
                step: 3, shards: [Work.Shard(shardID: 0, sampleCount: samples)], weights: weights,
                pixels: try zeros(Int(samples) * 784), labels: try ZMQMessage(copying: [UInt8](repeating: 9, count: Int(samples))))).encode())
        }
        bases.append(try WireMessage.ringWork(RingWork(
            generation: 1, step: 0, learningRate: 0.1, batchSamples: 32, shards: [Work.Shard(shardID: 0, sampleCount: 32)],
            pixels: try zeros(32 * 784), labels: try zeros(32))).encode())
        bases.append(try WireMessage.ringSetup(RingSetup(
            generation: 1, step: 0, rank: 0, size: 1, rightNeighbour: "tcp://127.0.0.1:1", momentum: 0.9, nesterov: false,
            weightDecay: 0, ownedStart: 0, ownedCount: UInt64(parameters), weights: weights, velocity: weights)).encode())
        bases.append(try WireMessage.stateRequest(StateRequest(generation: 1, step: 0)).encode())
        bases.append(try WireMessage.heartbeat.encode())
        return bases
    }
}

/// A dptrain process started by the fuzz benchmark, its stderr in a file.
private final class Child {
    private let process = Process()
    let logPath: String

    init(_ arguments: [String], log: String) throws {
        let bench = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: bench).deletingLastPathComponent().appendingPathComponent("dptrain")
        process.arguments = arguments
        FileManager.default.createFile(atPath: log, contents: nil)
        logPath = log
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    private var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func count(_ prefix: String) -> Int { log.split(separator: "\n").filter { $0.hasPrefix(prefix) }.count }

    func firstMatch(after marker: String) -> String? {
        guard let range = log.range(of: marker) else { return nil }
        return String(log[range.upperBound...].prefix { !$0.isWhitespace })
    }

    /// Waits until the log holds `count` lines starting with `prefix` (or a line containing `orLine`).
    func waitFor(_ prefix: String, count: Int = 1, orLine: String? = nil, seconds: Double) throws {
        let deadline = Deadline(seconds: seconds)
        while self.count(prefix) < count {
            if let orLine, log.contains(orLine) { return }
            guard isRunning else { throw BenchError("fuzz: \(process.arguments?.first ?? "dptrain") ended early; see \(logPath)") }
            guard !deadline.hasPassed else { throw BenchError("fuzz: no '\(prefix)' line within \(Int(seconds)) s; see \(logPath)") }
            usleep(20_000)
        }
    }

    /// Peak resident memory so far, from the kernel's own account.
    func peakMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    /// Stops the process if it still runs (SIGTERM, then SIGKILL).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Deadline(seconds: 10)
        while process.isRunning, !deadline.hasPassed { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// How it died, if by a signal other than the ones `stop` sends.
    func crash() -> String? {
        guard !process.isRunning, process.terminationReason == .uncaughtSignal else { return nil }
        let signal = process.terminationStatus
        guard signal != SIGTERM, signal != SIGKILL else { return nil }
        return "signal \(signal); log \(logPath)"
    }
}

/// A free TCP port on loopback, found by binding port 0.
private func freePort() throws -> Int {
    let socket = try ZMQSocket(context: .shared(), kind: .router)
    defer { socket.close() }
    let endpoint = try socket.bind("tcp://127.0.0.1:*")
    guard let port = Int(endpoint.split(separator: ":").last ?? "") else { throw BenchError("fuzz: no free port") }
    return port
}
