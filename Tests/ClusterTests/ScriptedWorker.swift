import Clock
import Collective
import Foundation
import MLP
import Training
import Wire

/// A worker played by hand on a real DEALER socket, speaking the real
/// protocol. It does nothing on its own: the rig calls `tick()` from the
/// coordinator's stop-signal poll, so worker and coordinator take turns on
/// one thread and every fault is placed by an event of the script, never by
/// a sleep. Between ticks it keeps the welcome's heartbeat unless `silent`.
final class ScriptedWorker {
    let name: String
    let socket: ZMQSocket
    /// Where a ring member says it takes ring traffic: nobody connects, these members never talk to each other.
    static let ringEndpoint = "tcp://127.0.0.1:9"
    private(set) var welcome: Welcome?
    private var limits = DecodingLimits.beforeWelcome
    /// Every message from the coordinator, in the order received.
    private(set) var received: [WireMessage] = []
    /// Sends nothing more, and ignores what it receives (it still records it).
    var silent = false
    /// The script: what to do with each message other than welcome and heartbeat.
    var onMessage: (WireMessage, ScriptedWorker) throws -> Void = { _, _ in }
    /// Run on every tick after the inbox is drained: replies that wait on an event.
    var onTick: (ScriptedWorker) throws -> Void = { _ in }
    private var lastSent = monotonicNanoseconds()
    private var heartbeatsSent = 0
    private var heartbeatsEchoed = 0

    init(name: String, context: ZMQContext, endpoint: String) throws {
        self.name = name
        socket = try ZMQSocket(context: context, kind: .dealer)
        try socket.setRoutingID(Array("scripted-\(name)".utf8))
        try socket.connect(endpoint)
    }

    func hello() throws {
        try socket.send(Hello(pid: 1, workerName: name).encode())
        lastSent = monotonicNanoseconds()
    }

    func send(_ message: WireMessage) throws {
        try socket.send(message.encode())
        lastSent = monotonicNanoseconds()
    }

    func tick() throws {
        while let frames = try socket.tryReceive() {
            let message = try WireMessage.decode(frames, limits: limits)
            received.append(message)
            switch message {
            case .welcome(let welcome):
                self.welcome = welcome
                limits = try DecodingLimits(welcome: welcome)
                if welcome.collective == .ring, !silent { try send(.ringAddress(RingAddress(endpoint: Self.ringEndpoint))) }
            case .heartbeat:
                heartbeatsEchoed += 1
            default:
                if !silent { try onMessage(message, self) }
            }
        }
        guard !silent else { return }
        try onTick(self)
        if let welcome, monotonicNanoseconds() - lastSent > UInt64(welcome.heartbeatMilliseconds) * 1_000_000 {
            try heartbeat()
        }
    }

    private func heartbeat() throws {
        try send(.heartbeat)
        heartbeatsSent += 1
    }

    /// Forgets its welcome, as a worker told it is no longer a member does:
    /// no heartbeats until it is welcomed again.
    func forgetWelcome() {
        welcome = nil
        limits = .beforeWelcome
    }

    /// A heartbeat whose echo proves the coordinator has handled everything
    /// this worker sent before it: the coordinator answers each heartbeat
    /// with one, and reads one peer's messages in order.
    func fence() throws -> Int {
        try heartbeat()
        return heartbeatsSent
    }

    func hasPassed(_ fence: Int) -> Bool { heartbeatsEchoed >= fence }

    var welcomes: Int { received.filter { if case .welcome = $0 { return true } else { return false } }.count }

    var works: [Work] { received.compactMap { if case .work(let work) = $0 { return work } else { return nil } } }

    var ringWorks: [RingWork] {
        received.compactMap { if case .ringWork(let work) = $0 { return work } else { return nil } }
    }

    var refusals: [String] { received.compactMap { if case .refuse(let reason) = $0 { return reason } else { return nil } } }
}

/// A central worker's honest reply, computed as `dptrain worker` does: the
/// same ShardGradientComputer, summed on the fixed-point grid. One per
/// worker: it keeps the weights of that worker's last work, as a worker
/// over TCP does, to read weights sent as steps from them.
final class HonestGradients {
    private let computer: ShardGradientComputer
    private let sum: GradientSum
    private var held: [Float] = []
    private var heldStep: UInt64?

    init(architecture: Architecture, shardSize: Int) {
        computer = ShardGradientComputer(architecture: architecture, shardSize: shardSize)
        sum = GradientSum(parameterCount: architecture.parameterCount)
    }

    private func weights(of work: Work) throws -> [Float] {
        switch work.weightsEncoding {
        case .raw:
            held = work.withWeights { Array($0) }
        case .steps:
            guard heldStep == work.baseStep else {
                throw ScriptFailure("work of step \(work.step) sends steps from step \(work.baseStep), the worker holds \(String(describing: heldStep))")
            }
            held.withUnsafeMutableBufferPointer { work.applySteps(onto: $0) }
        case .held:
            guard heldStep == work.step else {
                throw ScriptFailure("work of step \(work.step) names its weights held, the worker holds \(String(describing: heldStep))")
            }
        }
        heldStep = work.step
        return held
    }

    func reply(to work: Work) throws -> WireMessage {
        sum.reset()
        try weights(of: work).withUnsafeBufferPointer { weights in
            work.withPixels { pixels in
                work.withLabels { labels in
                    computer.addShards(weights: weights, pixels: pixels, labels: labels,
                                       step: work.step, shards: work.shards.lazy.map { (id: Int($0.shardID), samples: Int($0.sampleCount)) },
                                       into: sum)
                }
            }
        }
        let tally = StepTally(sum)
        return .gradient(Gradient(
            step: work.step, lossSumFixedPoint: tally.lossFixed, correct: UInt32(tally.correct),
            sampleCount: UInt32(tally.samples), computeNanoseconds: 1, shardIDs: ShardIDs(of: work.shards),
            gradient: try ZMQMessage(copying: UnsafeRawBufferPointer(sum.values))))
    }
}

/// A ring member's report, for members that never compute: the coordinator
/// never sees ring gradients, it trusts each member's RingDone.
enum RingReport {
    /// A report of `work` with made-up but consistent figures: a loss of
    /// 0.25 and one correct answer in two per sample.
    static func done(_ work: RingWork) -> WireMessage {
        let samples = work.sampleCount
        return .ringDone(RingDone(
            generation: work.generation, step: work.step, status: .updated,
            lossSumFixedPoint: FixedPoint.encode(loss: 0.25 * Double(samples)), correct: UInt32(samples / 2),
            sampleCount: UInt32(samples), computeNanoseconds: 1))
    }
}

struct ScriptFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
