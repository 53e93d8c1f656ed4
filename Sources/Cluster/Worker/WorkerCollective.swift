import Wire

/// What a collective plugs into the Worker: what to do with the
/// coordinator's messages of that collective, once welcomed. Joining,
/// heartbeats both ways, timeouts, refusals and shutdown are the Worker's.
///
/// Two kinds: `CentralWorker` (answers each work message with a gradient)
/// and `RingWorker` (reduces with its ring neighbours and updates a slice).
protocol WorkerCollective: AnyObject {
    /// Handles one coordinator message. Returns the frames of a coordinator
    /// message that ended the work midway, for the Worker to handle next.
    func handle(_ message: WireMessage, for worker: Worker) throws -> [ZMQMessage]?
}
