import Collective
import Wire

/// What the central coordinator sends a member as weights when bytes cross
/// a network: the step's weights as steps from the last step's, to a member
/// that holds those; nothing, to a member that holds this step's already (a
/// second work of the step); the Floats otherwise (a newcomer, or a member
/// that sat the last step out). A member holds the weights of the last work
/// it was sent: work goes out in order over one connection, and a lost
/// member's next connection is a new member.
final class WeightSteps {
    /// The weights of `step` as sent, to take the next step's steps from.
    private let sent: UnsafeMutableBufferPointer<Float>
    private var step: UInt64?
    /// This step's steps from the weights of `base`, packed once for every member.
    private let packed: LendableBuffer<UInt64>
    private let stepsFrame = ZMQMessage()
    private var base: UInt64?
    private var held: [PeerID: UInt64] = [:]

    init(parameterCount: Int) {
        sent = .allocate(capacity: parameterCount)
        packed = LendableBuffer(uninitializedCount: (PackedInt64s.largestPackedSize(count: parameterCount) + 7) / 8)
    }

    deinit { sent.deallocate() }

    /// A step starts with `weights` (a step tried again keeps its steps).
    /// The last step's frames are all settled by now.
    func begin(step next: UInt64, weights: UnsafeBufferPointer<Float>) throws {
        guard next != step else { return }
        packed.settle()
        if let step {
            let size = try packed.write { words in
                PackedInt64s.packWeightSteps(weights, from: UnsafeBufferPointer(sent), into: UnsafeMutableRawBufferPointer(words))
            }
            stepsFrame.refer(to: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packed.lendAll())[0..<size]))
        }
        base = step
        _ = sent.update(fromContentsOf: weights)
        step = next
    }

    /// The weights frame of `peer`'s next work of this step, and what it holds.
    func frame(for peer: PeerID) -> (ZMQMessage, Work.WeightsEncoding, UInt64)? {
        guard let step else { return nil }
        defer { held[peer] = step }
        switch held[peer] {
        case step?: return (ZMQMessage(), .held, step)
        case let holds? where holds == base: return (stepsFrame, .steps, holds)
        default: return nil
        }
    }

    func forget(_ peer: PeerID) { held[peer] = nil }
}
