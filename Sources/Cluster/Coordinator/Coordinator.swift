import Clock
import Datasets
import MLP
import Training
import Wire

/// The coordinator of a run, whichever collective it uses: owns the
/// membership, the one loop that waits for members' messages (with its
/// deadlines and the --min-workers pause), stop signals, the timing of
/// compute, and the policy for a step whose result is not finite. The
/// collective (`CoordinatorCollective`) plugs in only its step.
///
/// To the training loop it is the ParameterUpdater of the run.
public final class Coordinator: ParameterUpdater {
    let membership: Membership
    let settings: ClusterSettings
    let output: Output
    /// The training split, which the coordinator alone holds.
    let data: LabeledImages
    private var collective: CoordinatorCollective!
    /// The step itself: an AveragingUpdater over the central collective's
    /// gradients, or the ring collective, which updates on the workers.
    private var updater: ParameterUpdater!
    /// Slowest member's compute time in the step under way, and the sum over steps since the last take.
    private var stepCompute: UInt64 = 0
    private var computeNanoseconds: UInt64 = 0
    /// When the step under way and the one before it began: no honest
    /// report of compute is longer than the time since then.
    private var stepStarts: (previous: UInt64, current: UInt64) = (monotonicNanoseconds(), monotonicNanoseconds())

    public init(
        listen: String, collective kind: CollectiveKind, configuration: TrainingConfiguration, data: TrainingData,
        settings: ClusterSettings, curve: CoordinatorCurve? = nil, output: Output
    ) throws {
        self.settings = settings
        self.output = output
        self.data = data.train
        membership = try Membership(
            listen: listen, architecture: configuration.architecture, shardSize: configuration.shardSize,
            collective: kind, gradientOptions: configuration.gradientOptions, settings: settings, curve: curve,
            output: output)
        switch kind {
        case .central:
            let central = CentralCoordinator(coordinator: self, configuration: configuration)
            (collective, updater) = (central, AveragingUpdater(source: central, configuration: configuration))
        case .ring:
            let ring = RingCoordinator(coordinator: self, configuration: configuration)
            (collective, updater) = (ring, ring)
        }
        membership.delegate = self
    }

    public var endpoint: String { membership.endpoint }
    public var rejectedMessages: Int { membership.rejectedMessages }

    /// Polled while waiting, so a stop request is not held up by a stuck step.
    public var stopSignal: () -> Int32? {
        get { membership.stopSignal }
        set { membership.stopSignal = newValue }
    }

    /// Members that can take part in a step now.
    var participants: [Member] { membership.members.filter { collective.canTakePart($0) } }

    /// How many, without building the list (asked on every wait).
    var participantCount: Int { membership.members.reduce(0) { collective.canTakePart($1) ? $0 + 1 : $0 } }

    // MARK: - Waiting

    /// Blocks until `count` workers can take part, the join timeout passes, or a stop signal.
    public func waitForWorkers(_ count: Int) throws {
        output.info("coordinator: waiting for \(count) worker\(count == 1 ? "" : "s")")
        let deadline = Deadline(seconds: settings.joinTimeoutSeconds)
        try wait { () -> Bool in
            if participantCount >= count { return true }
            if deadline.hasPassed {
                throw NotEnoughWorkers(have: participantCount, need: count, waitedSeconds: settings.joinTimeoutSeconds)
            }
            return false
        }
    }

    /// The one wait loop: handles members' messages and their silence until
    /// `done` holds (or throws). While fewer than --min-workers can take
    /// part, training is paused, for at most --wait-timeout.
    func wait(pausing: Bool = false, until done: () throws -> Bool) throws {
        var pause: Deadline?
        // Silence is judged only once the queue is drained, or, under a
        // flood that never lets it drain, once a peer timeout has passed.
        var drained = Deadline(milliseconds: settings.peerTimeoutMilliseconds)
        while try !done() {
            if pausing { try checkPause(&pause) }
            if try !membership.receiveOne(timeoutMilliseconds: 50) || drained.hasPassed {
                try membership.dropSilentMembers()
                drained = Deadline(milliseconds: settings.peerTimeoutMilliseconds)
            }
        }
    }

    /// Blocks while fewer than --min-workers can take part.
    func pauseWhileTooFew() throws {
        try wait(pausing: true) { participantCount >= settings.minWorkers }
    }

    private func checkPause(_ pause: inout Deadline?) throws {
        let have = participantCount
        guard have < settings.minWorkers else {
            pause = nil
            return
        }
        guard let started = pause else {
            output.log("coordinator: \(have) live worker\(have == 1 ? "" : "s"), fewer than --min-workers \(settings.minWorkers); waiting up to \(Int(settings.waitTimeoutSeconds)) s")
            pause = Deadline(seconds: settings.waitTimeoutSeconds)
            return
        }
        if started.hasPassed {
            throw NotEnoughWorkers(have: have, need: settings.minWorkers, waitedSeconds: settings.waitTimeoutSeconds)
        }
    }

    /// Runs `body` with stop signals held back (a checkpoint's state must be
    /// whole). The hook is still called, for what else it does (tests drive
    /// scripted workers from it); only its answer is ignored.
    func ignoringStops<R>(_ body: () throws -> R) rethrows -> R {
        let stop = membership.stopSignal
        membership.stopSignal = {
            _ = stop()
            return nil
        }
        defer { membership.stopSignal = stop }
        return try body()
    }

    /// A member's compute time for the step under way; the step counts its
    /// slowest. A figure longer than the time since the step before began
    /// (the ring works one step ahead) cannot be true: it is logged and
    /// clamped, so that no report can overflow the sums.
    func recordCompute(_ nanoseconds: UInt64, from member: Member) {
        let bound = monotonicNanoseconds() - stepStarts.previous
        if nanoseconds > bound {
            output.log("coordinator: \(member.label) reports a compute time of \(nanoseconds) ns, longer than the step has run; counted as \(bound) ns")
        }
        stepCompute = max(stepCompute, min(nanoseconds, bound))
    }

    public func shutdown(reason: String) { membership.shutdown(reason: reason) }

    // MARK: - ParameterUpdater

    public var workerCount: Int { collective.stepMembers }

    public var lastGradientNorm: Double? { updater.lastGradientNorm }

    /// A non-finite result is computed once more with its shards kept away
    /// from the members whose part was not finite: a faulty worker is then
    /// outvoted, while a run that really diverged fails again and stops.
    public func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally {
        try pauseWhileTooFew()
        stepCompute = 0
        stepStarts = (stepStarts.current, monotonicNanoseconds())
        var tally = try updater.step(work, learningRate: learningRate, next: next)
        let suspects = collective.nonFiniteFrom
        if !tally.finite, !suspects.isEmpty, participants.contains(where: { !suspects.contains($0.peer) }) {
            let named = suspects.map { peer in membership.member(peer)?.label ?? "a lost worker" }
            output.log("coordinator: non-finite gradient in step \(work.globalStep) from \(named.joined(separator: ", ")); computing it again without them")
            tally = try updater.step(work.retaken(), learningRate: learningRate, next: next)
        }
        computeNanoseconds += stepCompute
        return tally
    }

    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }

    public func state() throws -> ModelState { try updater.state() }

    public func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws {
        try updater.load(weights: weights, velocity: velocity, step: step)
    }
}

extension Coordinator: MembershipDelegate {
    func membership(received message: WireMessage, from member: Member) throws {
        try collective.received(message, from: member)
    }

    func membership(lost member: Member) throws {
        try collective.lost(member)
    }
}
