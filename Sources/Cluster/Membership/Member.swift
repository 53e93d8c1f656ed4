import Clock
import Wire

/// A worker the coordinator has welcomed, as its ROUTER socket knows it.
struct Member {
    let id: UInt32
    let peer: PeerID
    let name: String
    var lastHeard: UInt64
    /// Where its ring neighbour reaches it (ring collective only, once it has said).
    var ringEndpoint: String?
    /// The CURVE key its ring inbox proves (ring collective under CURVE).
    var ringPublicKey: CurveKey?
    /// Its host, and where it makes shared-memory inboxes (both empty: sockets only).
    var ringHost = ""
    var ringSharedInboxPrefix = ""

    var label: String { "worker \(id) (\(name))" }
}

/// What the owner of a Membership hears from it.
protocol MembershipDelegate: AnyObject {
    /// Every message from a member other than hello and heartbeat.
    func membership(received message: WireMessage, from member: Member) throws
    /// A member was expelled or fell silent; it is no longer a member.
    func membership(lost member: Member) throws
}
