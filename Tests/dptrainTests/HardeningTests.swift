import Foundation
import Wire
import XCTest

/// Defects found by reading the code as an attacker would, each shown over a
/// real socket: a scripted peer in this process speaks the real protocol to a
/// real `dptrain` process and does what an honest peer never would.
final class HardeningTests: XCTestCase {
    /// A worker reporting UInt64.max nanoseconds of compute, step after step:
    /// summing that unchecked trapped the coordinator on the second step.
    func testAbsurdComputeTimesDoNotStopTheCoordinator() throws {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "1", "--heartbeat-ms", "100", "--peer-timeout-ms", "3000"]))
        let fake = try ScriptedWorker(endpoint: endpoint, name: "boaster")
        defer { fake.close() }
        var answered = 0
        try fake.serve(while: { coordinator.process.isRunning }) { work, limits in
            answered += 1
            return try ScriptedWorker.zeroGradient(for: work, limits: limits, computeNanoseconds: .max)
        }
        let result = try coordinator.wait(timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(answered, 50, "one answer per step of a 5,000-sample epoch of batch 100")
        XCTAssertTrue(result.stderr.contains("compute time"), "the absurd figure is not logged: \(result.stderr)")
    }

    /// A member that takes its shards and then only heartbeats: the step must
    /// not wait for it for ever. It is expelled at the step deadline (20 peer
    /// timeouts by default), its shards go to the honest worker, and on its
    /// second expulsion it is denied; the model is train's.
    func testAMemberThatOnlyHeartbeatsIsExpelledAtTheStepDeadline() throws {
        let reference = try temporaryFolder()
        XCTAssertEqual(try DPTrain.run(Fixture.smallRun(out: reference, epochs: 1, command: "train")).status, 0)

        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "2", "--heartbeat-ms", "100", "--peer-timeout-ms", "1000"]))
        let honest = try DPTrain.start(["worker", "--coordinator", endpoint])
        let staller = try ScriptedWorker(endpoint: endpoint, name: "staller")
        defer { staller.close() }
        let started = Date()
        try staller.serve(while: { coordinator.process.isRunning && Date().timeIntervalSince(started) < 120 }) { _, _ in nil }
        let result = try coordinator.wait(timeout: 5)
        XCTAssertEqual(result.status, 0, result.stderr)
        _ = try honest.wait(timeout: 30)
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")),
                       fileBytes(reference.appendingPathComponent("model.safetensors")))
        XCTAssertTrue(result.stderr.contains("step deadline"), result.stderr)
        XCTAssertTrue(result.stderr.contains("denied"), result.stderr)
        XCTAssertTrue(staller.refusals.contains { $0.contains("denied for the rest of this run") }, "\(staller.refusals)")
    }

    /// Hellos from many identities: members beyond a few times --workers are
    /// refused, so a stranger cannot grow the member list without bound.
    func testTheMemberListIsCapped() throws {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "2", "--heartbeat-ms", "100", "--peer-timeout-ms", "30000"]))
        defer {
            coordinator.signal(SIGKILL)
            _ = try? coordinator.wait(timeout: 10)
        }
        var sockets: [ZMQSocket] = []
        defer { for socket in sockets { socket.close() } }
        for index in 0..<40 {
            let socket = try ZMQSocket(context: .shared(), kind: .dealer)
            try socket.connect(endpoint)
            try socket.send(Hello(pid: UInt32(index), workerName: "crowd-\(index)").encode())
            sockets.append(socket)
        }
        var welcomed = 0, refused = 0
        for socket in sockets {
            let deadline = Date().addingTimeInterval(10)
            answer: while Date() < deadline {
                guard let frames = try socket.receive(timeoutMilliseconds: 100) else { continue }
                switch try WireMessage.decode(frames, limits: .beforeWelcome) {
                case .welcome: welcomed += 1; break answer
                case .refuse: refused += 1; break answer
                default: continue
                }
            }
        }
        XCTAssertLessThanOrEqual(welcomed, 8, "members: at most 2 × --workers + 4")
        XCTAssertEqual(welcomed + refused, 40)
    }

    /// A coordinator that sends a label outside the network's outputs: the
    /// worker refuses the work and lives on (it used to reach a precondition).
    func testAnOutOfRangeLabelIsRefusedByTheWorker() throws {
        let (router, worker, peer) = try workerOfAHandMadeCoordinator()
        defer {
            router.close()
            if worker.process.isRunning { worker.signal(SIGKILL) }
        }
        let parameterCount = try welcomeToATinyNetwork(router, peer)
        let work = Work(
            step: 1, shards: [Work.Shard(shardID: 0, sampleCount: 2)],
            weights: try ZMQMessage(copying: [UInt8](repeating: 0, count: parameterCount * 4)),
            pixels: try ZMQMessage(copying: [UInt8](repeating: 7, count: 8)),
            labels: try ZMQMessage(copying: [1, 200]))
        try router.send(to: peer, WireMessage.work(work).encode())
        // The worker keeps heartbeating; then it is told to stop and exits 0.
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, worker.process.isRunning { _ = try router.receiveRouted(timeoutMilliseconds: 100) }
        try router.send(to: peer, WireMessage.shutdown(reason: "test over").encode())
        let result = try worker.wait(timeout: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("label 200"), result.stderr)
    }

    /// Weights sent as steps from weights the worker does not hold are
    /// refused, not applied to the wrong base; steps from the ones it holds
    /// and "held" are answered. The worker answers in order, so the reply
    /// after a refused work is the next work's.
    func testWeightStepsFromWeightsTheWorkerDoesNotHoldAreRefused() throws {
        let (router, worker, peer) = try workerOfAHandMadeCoordinator()
        defer {
            router.close()
            if worker.process.isRunning { worker.signal(SIGKILL) }
        }
        let parameterCount = try welcomeToATinyNetwork(router, peer)
        let limits = DecodingLimits(parameterCount: parameterCount, inputSize: 4, shardSize: 2, maxShards: 4)
        let before = (0..<parameterCount).map { Float($0) * 0.125 - 1 }
        let after = before.map { $0 * 1.01 }
        var buffer = [UInt8](repeating: 0, count: PackedInt64s.largestPackedSize(count: parameterCount))
        let size = after.withUnsafeBufferPointer { new in
            before.withUnsafeBufferPointer { old in buffer.withUnsafeMutableBytes { PackedInt64s.packWeightSteps(new, from: old, into: $0) } }
        }
        func work(_ step: UInt64, _ weights: [UInt8], _ encoding: Work.WeightsEncoding, base: UInt64 = 0) throws -> Work {
            Work(step: step, shards: [Work.Shard(shardID: 0, sampleCount: 2)], weights: try ZMQMessage(copying: weights),
                 weightsEncoding: encoding, baseStep: base,
                 pixels: try ZMQMessage(copying: [UInt8](repeating: 7, count: 8)), labels: try ZMQMessage(copying: [1, 0]))
        }
        func nextReply() throws -> Gradient {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                guard let (_, frames) = try router.receiveRouted(timeoutMilliseconds: 100) else { continue }
                if case .gradient(let gradient) = try WireMessage.decode(frames, limits: limits) { return gradient }
            }
            struct NoReply: Error {}
            XCTFail("no gradient within 10 s: \(worker.stderr)")
            throw NoReply()
        }
        let raw = before.withUnsafeBytes { Array($0) }
        try router.send(to: peer, WireMessage.work(try work(1, raw, .raw)).encode())
        XCTAssertEqual(try nextReply().step, 1)
        let steps = Array(buffer.prefix(size))
        try router.send(to: peer, WireMessage.work(try work(8, steps, .steps, base: 7)).encode())
        try router.send(to: peer, WireMessage.work(try work(9, [], .held)).encode())
        try router.send(to: peer, WireMessage.work(try work(2, steps, .steps, base: 1)).encode())
        let stepped = try nextReply()
        XCTAssertEqual(stepped.step, 2, "steps from step 7's and step 9's held weights were answered")
        try router.send(to: peer, WireMessage.work(try work(2, [], .held)).encode())
        XCTAssertEqual(try nextReply().gradient.bytes, stepped.gradient.bytes, "held weights are the stepped ones")
        // The same gradient as from those weights sent whole.
        try router.send(to: peer, WireMessage.work(try work(3, after.withUnsafeBytes { Array($0) }, .raw)).encode())
        XCTAssertEqual(try nextReply().gradient.bytes, stepped.gradient.bytes, "the steps did not rebuild the weights")
        try router.send(to: peer, WireMessage.shutdown(reason: "test over").encode())
        let result = try worker.wait(timeout: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("refused the work of step 8: its weights are steps from step 7's, and this worker holds step 1's"), result.stderr)
        XCTAssertTrue(result.stderr.contains("refused the work of step 9: it names that step's weights as held, and this worker holds step 1's"), result.stderr)
    }
}

/// A worker scripted in the test process: says hello, takes the welcome's
/// limits, answers each work with what `answer` returns (nothing: it only
/// heartbeats), and says hello again whenever it is expelled.
final class ScriptedWorker {
    let socket: ZMQSocket
    let name: String
    private(set) var refusals: [String] = []

    init(endpoint: String, name: String) throws {
        self.name = name
        socket = try ZMQSocket(context: .shared(), kind: .dealer)
        try socket.connect(endpoint)
    }

    func close() { socket.close() }

    func serve(while running: () -> Bool, answer: (Work, DecodingLimits) throws -> Gradient?) throws {
        try socket.send(Hello(pid: 1, workerName: name).encode())
        var limits = DecodingLimits.beforeWelcome
        var lastBeat = Date()
        while running() {
            if Date().timeIntervalSince(lastBeat) > 0.1 {
                try socket.send(WireMessage.heartbeat.encode())
                lastBeat = Date()
            }
            guard let frames = try socket.receive(timeoutMilliseconds: 50) else { continue }
            switch try WireMessage.decode(frames, limits: limits) {
            case .welcome(let welcome):
                limits = try DecodingLimits(welcome: welcome)
            case .work(let work):
                if let reply = try answer(work, limits) { try socket.send(WireMessage.gradient(reply).encode()) }
            case .refuse(let reason):
                refusals.append(reason)
                limits = .beforeWelcome
                if reason.contains("join again") { try socket.send(Hello(pid: 1, workerName: name).encode()) }
            case .shutdown:
                return
            default:
                continue
            }
        }
    }

    static func zeroGradient(for work: Work, limits: DecodingLimits, computeNanoseconds: UInt64) throws -> Gradient {
        let parameterCount = try XCTUnwrap(limits.parameterCount)
        return Gradient(
            step: work.step, lossSumFixedPoint: 0, correct: 0, sampleCount: UInt32(work.sampleCount),
            computeNanoseconds: computeNanoseconds, shardIDs: ShardIDs(of: work.shards),
            gradient: try ZMQMessage(copying: [UInt8](repeating: 0, count: parameterCount * 8)))
    }
}

extension HardeningTests {
    /// A welcome whose shard size would have the worker allocate terabytes:
    /// the worker says why it cannot join instead of trapping in an allocation.
    func testAWelcomeThatWouldAllocateWithoutBoundIsRefused() throws {
        let (router, worker, peer) = try workerOfAHandMadeCoordinator()
        defer {
            router.close()
            if worker.process.isRunning { worker.signal(SIGKILL) }
        }
        let welcome = Welcome(
            workerID: 1, shardSize: 1 << 30, heartbeatMilliseconds: 100, peerTimeoutMilliseconds: 5000,
            activation: "relu", loss: "cross-entropy", layerSizes: [784, 512, 10])
        try router.send(to: peer, WireMessage.welcome(welcome).encode())
        let result = try worker.wait(timeout: 20)
        XCTAssertEqual(result.status, 1, "a clean failure, not a crash: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("GiB"), result.stderr)
    }
}

extension HardeningTests {
    /// A 4 MB frame to a coordinator of a 784-32-10 network, whose largest
    /// legitimate incoming frame (a gradient) is about 200 KB: libzmq must drop
    /// it at the socket (ZMQ_MAXMSGSIZE from the kinds a coordinator receives),
    /// not buffer it whole for the decoder to reject (the limit used to be the
    /// 49 MiB of a work message's pixels, which a coordinator never receives).
    func testACoordinatorTakesNoFrameLargerThanItsLargestIncomingMessage() throws {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "1", "--heartbeat-ms", "100", "--join-timeout", "5"]))
        let stranger = try ZMQSocket(context: .shared(), kind: .dealer)
        defer { stranger.close() }
        try stranger.connect(endpoint)
        try stranger.send([try ZMQMessage(copying: [UInt8](repeating: 0x44, count: 4 << 20))])
        let result = try coordinator.wait(timeout: 30)
        XCTAssertFalse(result.stderr.contains("rejected message"),
                       "the 4 MB frame reached the coordinator's decoder: \(result.stderr)")
    }
}

extension HardeningTests {
    /// A hello header followed by 40 frames of 4 MB, each within the
    /// coordinator's ZMQ_MAXMSGSIZE for 784-512-256-10 (a gradient is about
    /// 4.3 MB). A hello has no bulk frame: the frames past it are released
    /// as they are read. Before, all 41 were kept in the coordinator's reused
    /// frame slots, and the 160 MB stayed resident until a message as long came.
    func testFramesBeyondWhatTheirKindHasAreReleasedAsTheyArrive() throws {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try launch(FailureRun.arguments(
            "coordinator", out: out, layers: "784,512,256,10", epochs: 1,
            extra: ["--listen", endpoint, "--workers", "1", "--join-timeout", "120"]))
        guard waitUntil("the coordinator to listen: \(coordinator.stderr)", { coordinator.stderr.contains("waiting for 1 worker") }) else { return }
        let before = try XCTUnwrap(residentKilobytes(of: coordinator.pid))
        let stranger = try ZMQSocket(context: .shared(), kind: .dealer)
        defer { stranger.close() }
        try stranger.connect(endpoint)
        let hello = try Hello(pid: 1, workerName: "bloater").encode()[0]
        let bulk = try ZMQMessage(copying: [UInt8](repeating: 0x44, count: 4 << 20))
        // One 4 MB buffer, shared by every frame sent.
        try stranger.send([hello] + Array(repeating: bulk, count: 40))
        guard waitUntil("the coordinator to reject the message: \(coordinator.stderr)", {
            coordinator.stderr.contains("rejected message #1")
        }) else { return }
        let after = try XCTUnwrap(residentKilobytes(of: coordinator.pid))
        XCTAssertLessThan(after - before, 40 << 10, "the coordinator still holds \((after - before) >> 10) MB after rejecting the message")
        XCTAssertTrue(coordinator.stderr.contains("dropped a hello of 41 frames, more than the 1 allowed, as they arrived"), coordinator.stderr)
    }

    /// VmRSS of a running process, in kB.
    private func residentKilobytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    }
}

extension HardeningTests {
    /// A real `dptrain worker` joined to a ROUTER this test plays the
    /// coordinator on, once its hello has arrived.
    /// Welcomes the worker into a 4-3-2 network with shards of 2; returns its parameter count.
    func welcomeToATinyNetwork(_ router: ZMQSocket, _ peer: PeerID) throws -> Int {
        let welcome = Welcome(
            workerID: 1, shardSize: 2, heartbeatMilliseconds: 100, peerTimeoutMilliseconds: 5000,
            activation: "relu", loss: "cross-entropy", layerSizes: [4, 3, 2])
        try router.send(to: peer, WireMessage.welcome(welcome).encode())
        return (4 + 1) * 3 + (3 + 1) * 2
    }

    func workerOfAHandMadeCoordinator() throws -> (ZMQSocket, DPTrain.Running, PeerID) {
        let router = try ZMQSocket(context: .shared(), kind: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:\(freePort())")
        let worker = try DPTrain.start(["worker", "--coordinator", endpoint, "--heartbeat-ms", "100"])
        guard let (peer, _) = try router.receiveRouted(timeoutMilliseconds: 10_000) else {
            router.close()
            if worker.process.isRunning { worker.signal(SIGKILL) }
            struct NoHello: Error {}
            XCTFail("no hello from the worker within 10 s: \(worker.stderr)")
            throw NoHello()
        }
        return (router, worker, peer)
    }
}
