import Foundation
import Wire

/// A ring member's traffic with its neighbours during one step: waiting on
/// the left neighbour and the coordinator at once, checking every chunk
/// against what the round expects, and keeping traffic that came early.
extension RingMember {
    /// One step's sends and receives, watching the coordinator and the clock.
    struct Exchange {
        enum Received {
            case chunk(RingChunk)
            case interrupted([ZMQMessage])
            case stalled
        }

        let member: RingMember
        let ring: Ring
        let step: UInt64
        let coordinator: ZMQSocket

        func send(_ message: WireMessage) throws {
            // The outbox queues without blocking while the neighbour's pipe has room.
            guard let outbox = member.outbox else { return }
            try member.sender.send(message, on: outbox)
        }

        func receive(_ phase: RingChunk.Phase, round: Int, chunk: Int, count: Int, keepAlive: () -> Void) throws -> Received {
            let limit = UInt64(member.settings.peerTimeoutMilliseconds) * 1_000_000
            var lastHeard = monotonicNanoseconds()
            let (fromLeft, fromCoordinator) = (0, 1)
            while true {
                keepAlive()
                let ready = try member.waitForTraffic(coordinator: coordinator)
                if ready.contains(fromCoordinator), try coordinator.tryReceive(into: member.coordinatorFrames) {
                    let frames = member.coordinatorFrames.received
                    switch try? WireMessage.decode(frames, limits: member.limits) {
                    case .heartbeat?:
                        continue
                    case .ringWork(let work)? where work.generation == ring.generation && work.step > step:
                        // The next step's work, sent ahead: kept for when this one is done.
                        member.held = work
                        continue
                    default:
                        return .interrupted(Array(frames))
                    }
                }
                // Traffic that came ahead of its ring or step, first.
                if let index = member.ahead.firstIndex(where: { member.isDue($0, step: step) }) {
                    let frames = member.ahead.remove(at: index)
                    if let chunk = member.accept(frames[...], phase: phase, step: step, round: round, chunk: chunk, count: count, ring: ring) {
                        return .chunk(chunk)
                    }
                    continue
                }
                if ready.contains(fromLeft), try member.inbox.tryReceive(into: member.inboxFrames) {
                    if let chunk = member.accept(member.inboxFrames.received, phase: phase, step: step, round: round, chunk: chunk, count: count, ring: ring) {
                        return .chunk(chunk)
                    }
                    lastHeard = monotonicNanoseconds()
                    continue
                }
                if monotonicNanoseconds() - lastHeard > limit {
                    member.log("worker: no ring traffic for over \(member.settings.peerTimeoutMilliseconds) ms in step \(step); telling the coordinator")
                    return .stalled
                }
            }
        }
    }

    /// Waits up to a heartbeat interval for the left neighbour (item 0) or the coordinator (item 1).
    func waitForTraffic(coordinator: ZMQSocket) throws -> ZMQPoller.Ready {
        if poller == nil || pollerCoordinator !== coordinator {
            var fresh = ZMQPoller()
            fresh.add(inbox)
            fresh.add(coordinator)
            poller = fresh
            pollerCoordinator = coordinator
        }
        return try poller!.wait(timeoutMilliseconds: settings.heartbeatMilliseconds)
    }

    /// The chunk this round expects, or nil (logged unless merely stale).
    func accept(
        _ frames: ArraySlice<ZMQMessage>, phase: RingChunk.Phase, step: UInt64, round: Int, chunk: Int, count expectedCount: Int, ring: Ring
    ) -> RingChunk? {
        let received: RingChunk
        do {
            guard case .ringChunk(let decoded) = try WireMessage.decode(frames, limits: limits) else {
                rejectRing("a message that is not a ring chunk")
                return nil
            }
            received = decoded
        } catch {
            rejectRing("\(error)")
            return nil
        }
        // Earlier rings and steps leave traffic behind when a ring is re-formed.
        if received.generation < ring.generation || (received.generation == ring.generation && received.step < step) {
            return nil
        }
        // A neighbour already in a newer ring, whose setup for this member
        // is on its way from the coordinator: kept for then, not lost.
        if received.generation > ring.generation || received.step > step {
            ahead.append(Array(frames))
            return nil
        }
        guard received.generation == ring.generation, received.step == step, received.phase == phase,
              received.round == UInt32(round), received.chunk == UInt32(chunk),
              received.valueCount == UInt32(expectedCount) else {
            rejectRing("ring chunk (generation \(received.generation), step \(received.step), \(received.phase) round \(received.round), chunk \(received.chunk), \(received.valueCount) values) where generation \(ring.generation), step \(step), \(phase) round \(round), chunk \(chunk), \(expectedCount) values was due")
            return nil
        }
        return received
    }

    /// Whether kept-back traffic belongs to this ring and step.
    func isDue(_ frames: [ZMQMessage], step: UInt64) -> Bool {
        guard let ring, case .ringChunk(let chunk)? = try? WireMessage.decode(frames, limits: limits) else { return false }
        return chunk.generation == ring.generation && chunk.step == step
    }

    func rejectRing(_ reason: String) {
        rejected += 1
        log("worker: rejected ring message #\(rejected): \(reason)")
    }
}
