import Training
import Wire

/// What a collective plugs into the Coordinator: its step and what it keeps
/// between steps. Everything around the step (membership, the one wait loop
/// and its deadlines, the --min-workers pause, stop signals, timing, the
/// recheck of a non-finite step) is the Coordinator's.
///
/// Two kinds: `CentralCoordinator` (workers send gradients here, the update
/// is made here) and `RingCoordinator` (workers reduce and update among
/// themselves; this side only orchestrates).
protocol CoordinatorCollective: AnyObject {
    /// Whether `member` can take part in a step (a ring member must have said where it takes ring traffic).
    func canTakePart(_ member: Member) -> Bool
    /// Live members in the current step (those of the ring, when one is formed).
    var stepMembers: Int { get }
    /// Members whose own part of the last attempt was not finite. An attempt
    /// 1 (`StepWork.attempt`) keeps its shards away from them.
    var nonFiniteFrom: [PeerID] { get }
    /// A member's message other than hello, heartbeat and ring address.
    func received(_ message: WireMessage, from member: Member) throws
    /// A member was expelled or fell silent.
    func lost(_ member: Member) throws
}
