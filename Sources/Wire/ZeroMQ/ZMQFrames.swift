/// Reusable storage for received multipart messages. Each receive reuses
/// the frame objects of the one before, unless something still holds one
/// (a decoded message keeping its bulk frame, say): that frame is left to
/// its holder and a fresh one takes its slot. So a loop that is done with
/// each message before it receives the next allocates nothing per message,
/// one that keeps frames is still safe, and one that keeps some for a while
/// (work sent ahead) soon allocates nothing either: kept frames wait among
/// spares until released, then serve again.
public final class ZMQFrames {
    private var slots: [ZMQMessage] = []
    private var spares: [ZMQMessage] = []
    public private(set) var count = 0

    public init() {}

    /// The frames of the last message received into this storage.
    public var received: ArraySlice<ZMQMessage> { slots[0..<count] }

    func removeAll() { count = 0 }

    /// An empty frame at position `count`, for the next part to land in.
    func nextSlot() -> ZMQMessage {
        if count == slots.count {
            slots.append(ZMQMessage())
        } else if isKnownUniquelyReferenced(&slots[count]) {
            slots[count].clear()
        } else {
            // Still held elsewhere: it waits among the spares until released,
            // and a spare nobody holds any more takes its place.
            if let free = spares.indices.first(where: { isKnownUniquelyReferenced(&spares[$0]) }) {
                swap(&slots[count], &spares[free])
                slots[count].clear()
            } else {
                spares.append(slots[count])
                slots[count] = ZMQMessage()
            }
        }
        return slots[count]
    }

    /// Keeps the part just received in the slot `nextSlot` gave.
    func keepSlot() { count += 1 }
}
