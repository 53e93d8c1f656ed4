import Clock
import Cluster
import Collective
import Datasets
import Foundation
import MLP
import Training
import Wire
import XCTest

/// A run small enough to check bit for bit: 96 synthetic 4x4 images in 3
/// classes, a 16-8-3 network, 32-sample steps cut into 8 micro-shards of 4.
struct SmallRun {
    let configuration: TrainingConfiguration
    let data: TrainingData
    let plan: BatchPlan
    let order: [Int32]
    let rate: Float = 0.2

    init() {
        let architecture = try! Architecture(layerSizes: [16, 8, 3], activation: .tanh)
        configuration = TrainingConfiguration(
            architecture: architecture, epochs: 1, batchSize: 32, shardSize: 4, baseLearningRate: rate,
            optimiser: OptimiserSettings(learningRate: rate, momentum: 0.9), schedule: try! LearningRateSchedule(), seed: 7)
        let count = 96
        // A fixed scramble of bytes: any pixels will do, as long as both sides see the same.
        let pixels = (0..<(count * 16)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let labels = (0..<count).map { UInt8($0 * 7 % 3) }
        let images = LabeledImages(rows: 4, columns: 4, pixels: pixels, labels: labels)
        data = TrainingData(train: images, test: images)
        plan = try! BatchPlan(sampleCount: count, batchSize: 32, shardSize: 4)
        order = EpochOrder.permutation(count: count, seed: configuration.seed, epoch: 0)
    }

    var architecture: Architecture { configuration.architecture }

    func work(_ step: Int) -> StepWork {
        StepWork(globalStep: step, shards: plan.shardRanges(step: step), order: order)
    }

    func upcoming(_ step: Int) -> UpcomingStep { UpcomingStep(work: work(step), learningRate: rate) }

    var initialWeights: [Float] {
        let weights = ParameterBuffer.initialised(architecture, seed: configuration.seed)
        return withExtendedLifetime(weights) { Array(weights.readOnly) }
    }

    /// Starts `updater` where the loop starts a new run.
    func load(_ updater: ParameterUpdater) throws {
        let velocity = [Float](repeating: 0, count: architecture.parameterCount)
        try initialWeights.withUnsafeBufferPointer { weights in
            try velocity.withUnsafeBufferPointer { try updater.load(weights: weights, velocity: $0, step: 0) }
        }
    }

    /// What `dptrain train` computes for the first `steps` steps: an
    /// AveragingUpdater over a LocalGradientSource, no wire at all.
    func reference(steps: Int) throws -> Outcome {
        let updater = AveragingUpdater(
            source: LocalGradientSource(data: data.train, architecture: architecture, shardSize: configuration.shardSize),
            configuration: configuration)
        try load(updater)
        let tallies = try (0..<steps).map { try updater.step(work($0), learningRate: rate, next: nil) }
        return try Outcome(tallies: tallies, updater)
    }

    /// Weights, momentum and per-step tallies after some steps.
    struct Outcome: Equatable {
        var tallies: [StepTally]
        var weights: [Float]
        var velocity: [Float]

        init(tallies: [StepTally], _ updater: ParameterUpdater) throws {
            self.tallies = tallies
            let state = try updater.state()
            weights = Array(state.weights)
            velocity = Array(state.velocity)
        }

        /// Equal bit for bit (== on Float would let -0 pass for 0).
        func assertIdentical(to other: Outcome, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(tallies, other.tallies, "\(what): step tallies", file: file, line: line)
            XCTAssertEqual(weights.map(\.bitPattern), other.weights.map(\.bitPattern), "\(what): weights", file: file, line: line)
            XCTAssertEqual(velocity.map(\.bitPattern), other.velocity.map(\.bitPattern), "\(what): momentum", file: file, line: line)
        }
    }
}

extension ClusterSettings {
    /// A member silent for 400 ms is dropped; live ones speak every 20 ms.
    static func fast(minWorkers: Int = 1, joinTimeoutSeconds: Double = 30, waitTimeoutSeconds: Double = 30) -> ClusterSettings {
        ClusterSettings(heartbeatMilliseconds: 20, peerTimeoutMilliseconds: 400, joinTimeoutSeconds: joinTimeoutSeconds,
                        minWorkers: minWorkers, waitTimeoutSeconds: waitTimeoutSeconds)
    }
}

/// The coordinator's log, written from its thread (the test's own).
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    var all: [String] { lock.withLock { lines } }

    func matching(_ text: String) -> [String] { all.filter { $0.contains(text) } }
}

/// A real Coordinator on a real ROUTER socket, and scripted workers on
/// DEALER sockets, all on the test's thread: the coordinator's stop-signal
/// poll, made before every receive of its one wait loop, is where the
/// workers take their turn. Faults are placed by the scripts' events;
/// silence is measured by the coordinator's own clock.
final class CoordinatorRig {
    let run: SmallRun
    let log = LogLines()
    let coordinator: Coordinator
    private let context: ZMQContext
    private(set) var workers: [ScriptedWorker] = []
    /// A signal number the next poll returns, as SignalTrap would after a SIGTERM.
    var stopRequest: Int32?
    /// Test-level events, checked on every poll before the workers' turns.
    var onTick: () throws -> Void = {}
    /// Any rejection is a failure: stop at once rather than wait for the watchdog.
    var failOnRejection = false
    private var failure: Error?
    /// Far beyond any test's need: a coordinator that never ends a wait fails its test rather than hanging it.
    private let watchdog = Deadline(seconds: 20)
    private(set) var ticks = 0

    static let scriptFailed: Int32 = 99

    init(_ collective: CollectiveKind, settings: ClusterSettings = .fast(), run: SmallRun = SmallRun()) throws {
        self.run = run
        let log = self.log
        coordinator = try Coordinator(
            listen: "tcp://127.0.0.1:*", collective: collective, configuration: run.configuration, data: run.data,
            settings: settings, output: Output(people: { _ in }, log: { log.append($0) }))
        context = try ZMQContext()
        coordinator.stopSignal = { [unowned self] in self.poll() }
    }

    /// A worker that has said hello (the coordinator welcomes it at its next receive).
    @discardableResult
    func addWorker(_ name: String, script: (ScriptedWorker) -> Void = { _ in }) throws -> ScriptedWorker {
        let worker = try ScriptedWorker(name: name, context: context, endpoint: coordinator.endpoint)
        script(worker)
        workers.append(worker)
        try worker.hello()
        return worker
    }

    private func poll() -> Int32? {
        ticks += 1
        if failure != nil { return Self.scriptFailed }
        if let stopRequest { return stopRequest }
        do {
            if watchdog.hasPassed { throw ScriptFailure("watchdog: the test still runs 20 s after its rig was made") }
            if failOnRejection, coordinator.rejectedMessages > 0 {
                throw ScriptFailure("unexpected rejection: \(log.matching("rejected"))")
            }
            try onTick()
            for worker in workers { try worker.tick() }
        } catch {
            failure = error
            return Self.scriptFailed
        }
        return nil
    }

    /// Runs a coordinator call; a script's failure comes out as itself, not as the stop it caused.
    func attempt<R>(_ body: (Coordinator) throws -> R) throws -> R {
        do {
            let result = try body(coordinator)
            if let failure { throw failure }
            return result
        } catch {
            throw failure ?? error
        }
    }

    /// The coordinator's steps `first`..., each told the next as the loop tells it.
    func steps(_ count: Int, from first: Int = 0) throws -> [StepTally] {
        try (first..<(first + count)).map { step in
            let next = step + 1 < run.plan.stepsPerEpoch ? run.upcoming(step + 1) : nil
            return try attempt { try $0.step(run.work(step), learningRate: run.rate, next: next) }
        }
    }

    func outcome(_ tallies: [StepTally]) throws -> SmallRun.Outcome {
        try SmallRun.Outcome(tallies: tallies, coordinator)
    }

    func shutdown() {
        coordinator.shutdown(reason: "test over")
        for worker in workers { worker.socket.close() }
    }
}

extension ScriptedWorker {
    /// Answers every work honestly.
    func answerHonestly(_ run: SmallRun) {
        let gradients = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        onMessage = { message, worker in
            if case .work(let work) = message { try worker.send(try gradients.reply(to: work)) }
        }
    }
}

/// A test case around one rig: shut down after each test, and its log
/// printed for whoever reads a failure.
class CoordinatorRigTestCase: XCTestCase {
    var rig: CoordinatorRig!

    override func tearDown() {
        if let rig, (testRun?.totalFailureCount ?? 0) > 0 { print(rig.log.all.joined(separator: "\n")); fflush(stdout) }
        rig?.shutdown()
        rig = nil
        super.tearDown()
    }
}
