import Collective
import Foundation

/// A ring's links inside one process, for RingAllReduce without ZeroMQ:
/// member r sends into member r + 1's inbox, which hands messages out in
/// the order they were sent, as a PUSH/PULL pair does. A message other than
/// the one due is recorded in `unexpected` and ends the exchange (stalled),
/// as the ZeroMQ link would drop it; so does an inbox silent for 10 s.
final class InMemoryRingLink: RingLink {
    enum Message {
        case sum(round: Int, message: Int, values: [Int64], nonFinite: Bool)
        case weights(round: Int, message: Int, values: [Float])
        case value(round: Int, message: Int, value: SIMD2<UInt64>)
    }

    /// The links of a ring of `size`, each sending to the next.
    static func ring(size: Int) -> [InMemoryRingLink] {
        let links = (0..<size).map { _ in InMemoryRingLink() }
        for (rank, link) in links.enumerated() { link.right = links[(rank + 1) % size] }
        return links
    }

    private weak var right: InMemoryRingLink?
    private let condition = NSCondition()
    private var inbox: [Message] = []
    private(set) var unexpected: [String] = []

    private func deliver(_ message: Message) {
        condition.lock()
        inbox.append(message)
        condition.signal()
        condition.unlock()
    }

    private func next() -> Message? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: 10)
        while inbox.isEmpty {
            guard condition.wait(until: deadline) else { return nil }
        }
        return inbox.removeFirst()
    }

    private func refuse(_ message: Message?, due: String) -> RingReceipt {
        unexpected.append("\(message.map { "\($0)" } ?? "nothing") where \(due) was due")
        return .stalled
    }

    func sendSum(_ values: UnsafeBufferPointer<Int64>, round: Int, message: Int, nonFinite: Bool) throws {
        right?.deliver(.sum(round: round, message: message, values: Array(values), nonFinite: nonFinite))
    }

    func sendWeights(_ values: UnsafeBufferPointer<Float>, round: Int, message: Int) throws {
        right?.deliver(.weights(round: round, message: message, values: Array(values)))
    }

    func sendValue(_ value: SIMD2<UInt64>, round: Int, message: Int) throws {
        right?.deliver(.value(round: round, message: message, value: value))
    }

    func receiveSum(round: Int, message: Int, addingOnto sum: UnsafeMutableBufferPointer<Int64>) throws -> RingReceipt {
        let received = next()
        guard case let .sum(r, m, values, nonFinite)? = received, r == round, m == message, values.count == sum.count else {
            return refuse(received, due: "sum \(message) of round \(round)")
        }
        for index in sum.indices { sum[index] &+= values[index] }
        return .received(nonFinite: nonFinite)
    }

    func receiveWeights(round: Int, message: Int, into weights: UnsafeMutableBufferPointer<Float>) throws -> RingReceipt {
        let received = next()
        guard case let .weights(r, m, values)? = received, r == round, m == message, values.count == weights.count else {
            return refuse(received, due: "weights \(message) of round \(round)")
        }
        _ = weights.update(fromContentsOf: values)
        return .received(nonFinite: false)
    }

    func receiveValue(round: Int, message: Int, into value: inout SIMD2<UInt64>) throws -> RingReceipt {
        let received = next()
        guard case let .value(r, m, sent)? = received, r == round, m == message else {
            return refuse(received, due: "value \(message) of round \(round)")
        }
        value = sent
        return .received(nonFinite: false)
    }
}
