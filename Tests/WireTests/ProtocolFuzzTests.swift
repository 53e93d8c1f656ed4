import Foundation
import Wire
import XCTest

/// Over 150,000 damaged, forged and random messages through the decoder, in
/// named classes. Every outcome must be a ProtocolError or a message that is
/// itself valid: it re-encodes to frames that decode to the same kind, and it
/// differs from the valid original only in bulk payload or in header fields
/// that the decoder checks and found in range. Seeded: each class prints its
/// seed and counts; set DPTRAIN_FUZZ_SEED to explore other streams.
final class ProtocolFuzzTests: XCTestCase {
    private static let baseSeed: UInt64 = ProcessInfo.processInfo.environment["DPTRAIN_FUZZ_SEED"]
        .flatMap { UInt64($0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0, radix: 16) } ?? 0x5EED_F022

    func testTruncationsAtEveryLengthAreRejected() throws {
        try fuzz("truncation", salt: 1) { tally, random in
            while tally.cases < 20_000 {
                let seed = try FuzzSeed.random(FuzzSeed.kinds[tally.cases % FuzzSeed.kinds.count], &random)
                for (index, frame) in seed.parts.enumerated() {
                    // Every prefix of a header; bulk frames at the ends and off element boundaries.
                    let lengths = index == 0 ? Array(0..<frame.count)
                        : Array(Set([0, 1, frame.count / 2, max(0, frame.count - 1), max(0, frame.count - 4)])).sorted()
                    for length in lengths where length < frame.count {
                        var parts = seed.parts
                        parts[index] = Array(frame.prefix(length))
                        tally.judge(parts, against: seed, expect: .rejected)
                    }
                }
            }
        }
    }

    func testSingleBitFlips() throws {
        try fuzz("single bit flip", salt: 2) { tally, random in
            // Every header bit of one message of each kind, then random bits of random messages.
            for kind in FuzzSeed.kinds {
                let seed = try FuzzSeed.random(kind, &random)
                for bit in 0..<(seed.parts[0].count * 8) {
                    tally.judge(flipping([(0, bit)], in: seed.parts), against: seed)
                }
            }
            while tally.cases < 20_000 {
                let seed = try FuzzSeed.random(FuzzSeed.kinds[tally.cases % FuzzSeed.kinds.count], &random)
                tally.judge(flipping([randomBit(of: seed.parts, &random)], in: seed.parts), against: seed)
            }
        }
    }

    func testMultipleBitFlips() throws {
        try fuzz("multiple bit flips", salt: 3) { tally, random in
            while tally.cases < 15_000 {
                let seed = try FuzzSeed.random(FuzzSeed.kinds[tally.cases % FuzzSeed.kinds.count], &random)
                // Half confined to the header, where every byte is a field.
                let inHeader = Bool.random(using: &random)
                let bits = (0..<Int.random(in: 2...16, using: &random)).map { _ in
                    inHeader ? (0, Int.random(in: 0..<(seed.parts[0].count * 8), using: &random))
                        : randomBit(of: seed.parts, &random)
                }
                tally.judge(flipping(bits, in: seed.parts), against: seed)
            }
        }
    }

    func testWrongFrameCountsAndLengths() throws {
        try fuzz("frame count or length", salt: 4) { tally, random in
            while tally.cases < 15_000 {
                let seed = try FuzzSeed.random(FuzzSeed.kinds[tally.cases % FuzzSeed.kinds.count], &random)
                var parts = seed.parts
                let index = Int.random(in: 0..<parts.count, using: &random)
                switch Int.random(in: 0..<8, using: &random) {
                case 0: parts.remove(at: index)
                case 1: parts.insert(parts[index], at: index)
                case 2: parts.append([])
                case 3: parts.append(randomBytes(0...64, &random))
                case 4: parts.insert([], at: 0)
                case 5: parts[index] += randomBytes(1...16, &random)
                case 6: parts[index] += [UInt8](repeating: 0, count: Int.random(in: 1...8, using: &random))
                default:
                    // One element short or long: the size a confused peer would send.
                    let step = index == 0 ? 1 : [1, 4, 8].randomElement(using: &random)!
                    if parts[index].count >= step && Bool.random(using: &random) {
                        parts[index].removeLast(step)
                    } else {
                        parts[index] += [UInt8](repeating: 0xA5, count: step)
                    }
                }
                tally.judge(parts, against: seed)
            }
        }
    }

    /// Every version number but ours on every kind, every unknown kind byte, every
    /// non-zero reserved byte. Only a refuse is read at any version, by design.
    func testEveryOtherVersionKindAndReservedByte() throws {
        try fuzz("header version, kind, reserved", salt: 5) { tally, random in
            var seeds: [FuzzSeed] = []
            for kind in FuzzSeed.kinds { seeds.append(try FuzzSeed.random(kind, &random)) }
            for version in 0...Int(UInt16.max) where version != Int(wireProtocolVersion) {
                let seed = seeds[version % seeds.count]
                let parts = patched(seed.parts, at: 4, [UInt8(version & 0xff), UInt8(version >> 8)])
                tally.judge(parts, against: seed, expect: seed.kind == .refuse
                    ? .anything : .error(.versionMismatch(theirs: UInt16(version), ours: wireProtocolVersion)))
            }
            for seed in seeds {
                for kind in 0...255 where WireMessageKind(rawValue: UInt8(kind)) == nil {
                    tally.judge(patched(seed.parts, at: 6, [UInt8(kind)]), against: seed, expect: .error(.unknownKind(UInt8(kind))))
                }
                for reserved in 1...255 {
                    tally.judge(patched(seed.parts, at: 7, [UInt8(reserved)]), against: seed,
                                expect: seed.kind == .refuse ? .anything : .error(.reservedByte(UInt8(reserved))))
                }
            }
        }
    }

    /// Counts and lengths far beyond the frame or the limits, in otherwise valid
    /// headers: each must be refused before anything is sized by it, also under
    /// limits generous enough that only the frame's own length stops it.
    func testHugeDeclaredCountsAreRejectedWithoutAllocating() throws {
        try fuzz("huge declared count", salt: 6) { tally, random in
            // A heartbeat and a state request have no count to inflate.
            let kinds = FuzzSeed.kinds.filter { $0 != .heartbeat && $0 != .stateRequest }
            while tally.cases < 12_000 {
                let seed = try FuzzSeed.random(kinds[tally.cases % kinds.count], &random)
                let field = seed.counts.randomElement(using: &random)!
                let value = field.hugeValue(&random)
                let bytes = (0..<field.width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
                let limits = field.beyondFrame ? [welcomedLimits, .beforeWelcome, generousLimits] : [welcomedLimits, .beforeWelcome]
                tally.judge(patched(seed.parts, at: field.offset, bytes), against: seed, expect: .rejected, limits: limits)
            }
        }
    }

    func testPureRandomBytes() throws {
        try fuzz("random bytes", salt: 7) { tally, random in
            while tally.cases < 15_000 {
                let parts = (0..<Int.random(in: 0...5, using: &random)).map { _ in
                    var frame = randomBytes(0...(Bool.random(using: &random) ? 16 : 256), &random)
                    // Half get a plausible header, so the random part reaches the kinds' decoders.
                    if frame.count >= 8 && Bool.random(using: &random) {
                        let version = [UInt8(wireProtocolVersion & 0xff), UInt8(wireProtocolVersion >> 8)]
                        let kind = UInt8.random(in: 0...UInt8(FuzzSeed.kinds.count + 1), using: &random)
                        frame.replaceSubrange(0..<8, with: Array("DPTR".utf8) + version + [kind, 0])
                    }
                    return frame
                }
                tally.judge(parts, against: nil)
            }
        }
    }

    /// The original mixed mutations: byte overwrites, cuts, growth, dropped and repeated frames, swaps.
    func testMixedMutations() throws {
        try fuzz("mixed mutation", salt: 8) { tally, random in
            while tally.cases < 10_000 {
                let seed = try FuzzSeed.random(FuzzSeed.kinds[tally.cases % FuzzSeed.kinds.count], &random)
                tally.judge(mutate(seed.parts, &random), against: seed)
            }
        }
    }

    // MARK: - Running a class

    private func fuzz(
        _ name: String, salt: UInt64, file: StaticString = #filePath, line: UInt = #line,
        _ body: (inout FuzzTally, inout SplitMix64) throws -> Void
    ) throws {
        let seed = Self.baseSeed ^ (salt &* 0x9E37_79B9_7F4A_7C15)
        var random = SplitMix64(state: seed)
        var tally = FuzzTally()
        let peakBefore = peakResidentBytes()
        let started = Date()
        try body(&tally, &random)
        let seconds = Date().timeIntervalSince(started)
        let growth = peakBefore.flatMap { before in peakResidentBytes().map { $0 - before } }
        let accepted = tally.accepted.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        print("ProtocolFuzz [\(name)] seed 0x\(String(seed, radix: 16)): \(tally.cases) cases, \(tally.decodes) decodes, "
            + "\(tally.rejected) rejected, accepted {\(accepted)}, peak memory +\((growth ?? 0) >> 10) KiB, "
            + String(format: "%.2f s", seconds))
        if !tally.failures.isEmpty {
            XCTFail("[\(name)] seed 0x\(String(seed, radix: 16)): \(tally.failureCount) failures, first: \n"
                + tally.failures.joined(separator: "\n"), file: file, line: line)
        }
        XCTAssertEqual(tally.rejected + tally.accepted.values.reduce(0, +) + tally.failureCount, tally.decodes)
        if let growth { XCTAssertLessThan(growth, 64 << 20, "peak memory grew by \(growth >> 20) MiB", file: file, line: line) }
    }
}

// MARK: - Judging outcomes

/// Limits under which a shard count or string length can only be stopped by the frame's own length.
private let generousLimits = DecodingLimits(parameterCount: 10, inputSize: 4, shardSize: 1 << 16, maxShards: 1 << 24)

private enum Expectation {
    case anything
    case rejected
    case error(ProtocolError)
}

private struct FuzzTally {
    private(set) var cases = 0
    private(set) var decodes = 0
    private(set) var rejected = 0
    private(set) var accepted: [String: Int] = [:]
    private(set) var failureCount = 0
    private(set) var failures: [String] = []

    mutating func judge(
        _ parts: [[UInt8]], against seed: FuzzSeed?, expect: Expectation = .anything,
        limits: [DecodingLimits] = [welcomedLimits, .beforeWelcome]
    ) {
        cases += 1
        for limit in limits {
            decodes += 1
            do {
                let message = try WireMessage.decode(try frames(parts), limits: limit)
                touch(message)
                switch (FuzzVerdict.of(message, parts, seed, limit), expect) {
                case (.bug(let why), _): fail(parts, why)
                case (.allowed(let why), .anything): accepted[why, default: 0] += 1
                case (.allowed(let why), _): fail(parts, "accepted (\(why)) but must be rejected")
                }
            } catch let error as ProtocolError {
                if case .error(let expected) = expect, error != expected {
                    fail(parts, "rejected with \(error), expected \(expected)")
                } else {
                    rejected += 1
                }
            } catch {
                fail(parts, "not a ProtocolError: \(error)")
            }
        }
    }

    private mutating func fail(_ parts: [[UInt8]], _ why: String) {
        failureCount += 1
        guard failures.count < 10 else { return }
        let shown = parts.map { $0.prefix(48).map { String(format: "%02x", $0) }.joined() }
        failures.append("case \(cases): \(why); frames \(shown)")
    }

    /// Reads every field and bulk element, so a decoded message's claims are exercised too.
    private func touch(_ message: WireMessage) {
        switch message {
        case .work(let work):
            _ = work.withWeights { $0.reduce(0, +) }
            _ = work.withPixels { $0.reduce(0) { $0 &+ Int($1) } }
            _ = work.withLabels { $0.count }
        case .gradient(let gradient):
            var values = [Int64](repeating: 0, count: welcomedLimits.parameterCount ?? 0)
            values.withUnsafeMutableBufferPointer { gradient.unpack(into: $0, overwrite: true) }
        case .ringSetup(let setup):
            _ = setup.weights.withUnsafeElements(of: Float.self) { $0.reduce(0, +) }
            _ = setup.velocity.withUnsafeElements(of: Float.self) { $0.reduce(0, +) }
        case .ringWork(let work):
            _ = work.withPixels { $0.reduce(0) { $0 &+ Int($1) } }
            _ = work.withLabels { $0.count }
        case .ringChunk(let chunk):
            if chunk.phase == .allGather {
                var values = [Float](repeating: 0, count: Int(chunk.valueCount))
                values.withUnsafeMutableBufferPointer { chunk.writeWeights(into: $0) }
            } else {
                var values = [Int64](repeating: 0, count: Int(chunk.valueCount))
                values.withUnsafeMutableBufferPointer { chunk.add(into: $0) }
            }
        case .stateSlice(let slice):
            _ = slice.weights.withUnsafeElements(of: Float.self) { $0.reduce(0, +) }
            _ = slice.velocity.withUnsafeElements(of: Float.self) { $0.reduce(0, +) }
        case .hello, .welcome, .refuse, .heartbeat, .shutdown, .ringAddress, .ringDone, .stateRequest:
            _ = "\(message)"
        }
    }
}

/// Whether a decoded message is one the decoder may accept, and why.
private enum FuzzVerdict {
    case allowed(String)
    case bug(String)

    static func of(_ message: WireMessage, _ parts: [[UInt8]], _ seed: FuzzSeed?, _ limits: DecodingLimits) -> FuzzVerdict {
        let canonical: [[UInt8]]
        do {
            let again = try message.encode()
            canonical = again.map(\.bytes)
            let kind = try WireMessage.decode(again, limits: limits).kind
            guard kind == message.kind else { return .bug("re-encoded \(message.kind) decodes as \(kind)") }
        } catch {
            return .bug("decoded \(message.kind) does not re-encode and decode: \(error)")
        }
        if case .refuse(let reason) = message {
            // A refuse is read at any version and ignores what follows its reason,
            // so check the reason against the raw bytes instead of a re-encoding.
            let header = parts[0]
            let length = Int(header[8]) | Int(header[9]) << 8
            guard length <= WireLimits.maxStringBytes, Array(reason.utf8) == Array(header[10..<(10 + length)]) else {
                return .bug("refuse reason \"\(reason)\" is not the frame's reason")
            }
            if canonical != parts { return .allowed("refuse, read leniently by design") }
        }
        guard canonical == parts else { return .bug("accepted frames that are not the canonical encoding") }
        guard let seed else { return .allowed("valid by chance") }
        guard message.kind == seed.kind else { return .allowed("another valid kind (\(message.kind))") }
        // A packed frame's length follows its values (an all-zero frame is 8
        // bytes), so a validated packed frame of another length is legitimate.
        if isPacked(message), parts.count == seed.parts.count, parts[0].count == seed.parts[0].count {
            return .allowed("another valid packed \(message.kind) frame")
        }
        guard parts.count == seed.parts.count, zip(parts, seed.parts).allSatisfy({ $0.count == $1.count }) else {
            return .bug("accepted a \(message.kind) whose frame count or lengths differ from the valid original")
        }
        var changed: Set<FieldRole> = []
        for offset in parts[0].indices where parts[0][offset] != seed.parts[0][offset] {
            changed.insert(seed.roles[offset])
        }
        if changed.contains(.structural) { return .bug("accepted a change to a magic, version, kind, length or count byte") }
        if let role = [FieldRole.text, .bounded, .free].first(where: changed.contains) { return .allowed("header \(role) field") }
        return zip(parts, seed.parts).dropFirst().contains { $0 != $1 } ? .allowed("bulk payload") : .allowed("no net change")
    }

    private static func isPacked(_ message: WireMessage) -> Bool {
        switch message {
        case .gradient(let gradient): return gradient.encoding == .packed
        case .ringChunk(let chunk): return chunk.encoding == .packedInt64 || chunk.encoding == .weightSteps
        case .work(let work): return work.weightsEncoding == .steps
        default: return false
        }
    }
}

// MARK: - Valid messages to damage

/// What a header byte is, for judging a mutation that still decodes.
private enum FieldRole: CustomStringConvertible {
    /// Magic, version, kind, reserved byte, string lengths, counts: a change must be rejected.
    case structural
    /// Integers of which every value is valid: step, weight version, loss, time, pid, ids.
    case free
    /// Integers with a checked range: shard size, heartbeat, sample and correct counts, layer sizes.
    case bounded
    /// String bytes; a change that stays valid UTF-8 is a valid string.
    case text

    var description: String {
        switch self {
        case .structural: return "structural"
        case .free: return "free"
        case .bounded: return "range-checked"
        case .text: return "text"
        }
    }
}

/// A count or length field, and how far beyond the frame or the limits to push it.
private struct CountField {
    let offset: Int
    let width: Int
    /// Below this the field still fits the limits; values from it up are refused by range.
    let limit: Int
    /// Whether any value above the current one runs past the frame, whatever the limits.
    let beyondFrame: Bool
    let current: Int

    func hugeValue(_ random: inout SplitMix64) -> UInt64 {
        let top = width == 2 ? UInt64(UInt16.max) : width == 4 ? UInt64(UInt32.max) : UInt64.max
        let low = UInt64(beyondFrame ? current + 1 : limit)
        return [top, top / 2 + 1, top / 2, low, min(top, low + 1), UInt64.random(in: low...top, using: &random)]
            .randomElement(using: &random)!
    }
}

/// A random valid message, its frames, and the role of every header byte.
private struct FuzzSeed {
    static let kinds = WireMessageKind.allCases

    let kind: WireMessageKind
    let parts: [[UInt8]]
    let roles: [FieldRole]
    let counts: [CountField]

    static func random(_ kind: WireMessageKind, _ random: inout SplitMix64) throws -> FuzzSeed {
        var layout = Layout()
        let message: WireMessage
        switch kind {
        case .hello:
            let name = text(&random)
            layout.add(.free, 4)
            layout.string(name)
            message = .hello(Hello(pid: .random(in: 0...UInt32.max, using: &random), workerName: name))
        case .welcome:
            let activation = text(&random), loss = text(&random)
            let sizes = (0..<(Int.random(in: 0..<20, using: &random) == 0 ? Int.random(in: 2...64, using: &random)
                                                                          : Int.random(in: 2...6, using: &random)))
                .map { _ in UInt32.random(in: 1...(1 << 20), using: &random) }
            let heartbeat = UInt32.random(in: 1...5000, using: &random)
            layout.add(.free, 4)
            layout.add(.bounded, 13)  // shard size, heartbeat, peer timeout, collective
            layout.string(activation)
            layout.string(loss)
            layout.add(.free, 8)  // noise seed
            // Dropout rates: a larger count reads the following fields as rates, which may decode.
            layout.count(2, limit: WireLimits.maxLayers + 1, current: nil)
            layout.add(.bounded, 4)  // label smoothing
            layout.add(.free, 1)  // shift
            layout.count(2, limit: WireLimits.maxLayers + 1, current: sizes.count)
            for _ in sizes { layout.add(.bounded, 4) }
            message = .welcome(Welcome(
                workerID: .random(in: 0...UInt32.max, using: &random), shardSize: .random(in: 1...64, using: &random),
                heartbeatMilliseconds: heartbeat, peerTimeoutMilliseconds: heartbeat + .random(in: 1...5000, using: &random),
                activation: activation, loss: loss,
                layerSizes: sizes, collective: CollectiveKind.allCases.randomElement(using: &random)!))
        case .refuse, .shutdown:
            let reason = text(&random)
            layout.string(reason)
            message = kind == .refuse ? .refuse(reason: reason) : .shutdown(reason: reason)
        case .work:
            let sampleCounts = (0..<Int.random(in: 1...4, using: &random)).map { _ in UInt32.random(in: 1...8, using: &random) }
            let samples = sampleCounts.reduce(0) { $0 + Int($1) }
            layout.add(.free, 8)
            layout.add(.bounded, 1)  // weights encoding: raw, steps or held, each with its own frame length
            layout.add(.free, 8)  // base step
            layout.count(4, limit: welcomedLimits.maxShards + 1, current: sampleCounts.count)
            for _ in sampleCounts {
                layout.add(.free, 4)
                layout.count(4, limit: welcomedLimits.shardSize + 1, current: nil)
            }
            message = .work(Work(
                step: random.next(),
                shards: sampleCounts.map { Work.Shard(shardID: .random(in: 0...UInt32.max, using: &random), sampleCount: $0) },
                weights: try ZMQMessage(copying: randomBytes(40...40, &random)),
                pixels: try ZMQMessage(copying: randomBytes((samples * 4)...(samples * 4), &random)),
                labels: try ZMQMessage(copying: randomBytes(samples...samples, &random))))
        case .gradient:
            let ids = (0..<Int.random(in: 1...4, using: &random)).map { _ in UInt32.random(in: 0...UInt32.max, using: &random) }
            let samples = UInt32.random(in: 1...UInt32(ids.count * 8), using: &random)
            layout.add(.free, 16)
            layout.count(4, limit: Int(samples) + 1, current: nil)
            layout.count(4, limit: ids.count * welcomedLimits.shardSize + 1, current: nil)
            layout.add(.free, 8)
            layout.add(.structural, 1)  // encoding: raw or packed, each with its own frame layout
            layout.count(4, limit: welcomedLimits.maxShards + 1, current: ids.count)
            for _ in ids { layout.add(.free, 4) }
            let packed = Bool.random(using: &random)
            message = .gradient(Gradient(
                step: random.next(), lossSumFixedPoint: Int64(bitPattern: random.next()),
                correct: .random(in: 0...samples, using: &random), sampleCount: samples, computeNanoseconds: random.next(),
                shardIDs: ShardIDs(ids),
                gradient: packed ? try packedFrame(&random) : try ZMQMessage(copying: randomBytes(80...80, &random)),
                encoding: packed ? .packed : .raw))
        case .heartbeat:
            message = .heartbeat
        case .ringAddress:
            let endpoint = text(&random)
            let key = curveKey(&random)
            layout.string(endpoint)
            layout.string(key?.z85 ?? "")
            let (host, prefix) = (text(&random), text(&random))
            layout.string(host)
            layout.string(prefix)
            message = .ringAddress(RingAddress(endpoint: endpoint, publicKey: key, host: host, sharedInboxPrefix: prefix))
        case .ringSetup:
            message = try ringSetup(&layout, &random)
        case .ringWork:
            message = try ringWork(&layout, &random)
        case .ringChunk:
            message = try ringChunk(&layout, &random)
        case .ringDone:
            let samples = UInt32.random(in: 0...64, using: &random)
            layout.add(.free, 16)
            layout.add(.bounded, 1)  // status
            layout.add(.free, 8)
            layout.count(4, limit: Int(samples) + 1, current: nil)
            layout.add(.bounded, 4)  // sample count: at least the correct count
            layout.add(.free, 8)
            layout.add(.bounded, 9)  // gradient norm: flag, then bits that must agree with it
            layout.count(4, limit: welcomedLimits.maxShards + 1, current: 0)  // digests, none here
            message = .ringDone(RingDone(
                generation: random.next(), step: random.next(), status: [.updated, .nonFinite, .stalled].randomElement(using: &random)!,
                lossSumFixedPoint: Int64(bitPattern: random.next()), correct: .random(in: 0...samples, using: &random),
                sampleCount: samples, computeNanoseconds: random.next()))
        case .stateRequest:
            layout.add(.free, 16)
            message = .stateRequest(StateRequest(generation: random.next(), step: random.next()))
        case .stateSlice:
            let (start, count) = ownedRange(&random)
            layout.add(.free, 16)
            layout.count(8, limit: parameters - count + 1, current: nil)
            layout.count(8, limit: parameters - start + 1, current: count)
            layout.add(.structural, 1)  // state planes: fixes the state frame's length
            message = .stateSlice(StateSlice(
                generation: random.next(), step: random.next(), start: UInt64(start), count: UInt64(count),
                weights: try ZMQMessage(copying: randomBytes((count * 4)...(count * 4), &random)),
                velocity: try ZMQMessage(copying: randomBytes((count * 4)...(count * 4), &random))))
        }
        let parts = try encodedBytes(message)
        precondition(parts[0].count == layout.roles.count, "the \(kind) layout disagrees with its encoder")
        return FuzzSeed(kind: kind, parts: parts, roles: layout.roles, counts: layout.counts)
    }

    /// welcomedLimits' parameter count, the length of every seed's weights.
    private static let parameters = welcomedLimits.parameterCount!

    /// A packed frame of `count` values, small, large or zero at random.
    private static func packedFrame(_ random: inout SplitMix64, count: Int = parameters) throws -> ZMQMessage {
        let magnitude = [0, 1 << 20, 1 << 40].randomElement(using: &random)!
        let values = (0..<count).map { _ in magnitude == 0 ? Int64(0) : Int64.random(in: -Int64(magnitude)...Int64(magnitude), using: &random) }
        return try packedInt64Frame(values)
    }

    /// A slice of the parameters, now and then empty or all of them.
    private static func ownedRange(_ random: inout SplitMix64) -> (start: Int, count: Int) {
        let start = Int.random(in: 0...parameters, using: &random)
        return (start, Int.random(in: 0...(parameters - start), using: &random))
    }

    private static func ringSetup(_ layout: inout Layout, _ random: inout SplitMix64) throws -> WireMessage {
        let size = UInt32.random(in: 1...(Bool.random(using: &random) ? 8 : UInt32(RingSetup.maxSize)), using: &random)
        let right = text(&random)
        let (start, count) = ownedRange(&random)
        layout.add(.free, 16)
        layout.count(4, limit: Int(size), current: nil)  // rank
        layout.count(4, limit: RingSetup.maxSize + 1, current: nil)
        layout.string(right)
        layout.add(.free, 4)  // momentum
        layout.add(.bounded, 1)  // nesterov flag
        layout.add(.free, 4)  // weight decay
        layout.count(8, limit: parameters - count + 1, current: nil)
        layout.count(8, limit: parameters - start + 1, current: count)
        let (rightKey, leftKey) = (curveKey(&random), curveKey(&random))
        layout.string(rightKey?.z85 ?? "")
        layout.string(leftKey?.z85 ?? "")
        layout.add(.free, 16)  // link tokens
        layout.add(.bounded, 1)  // optimiser kind: also fixes the state frame's length
        layout.add(.free, 20)  // beta1, beta2, epsilon, clip value, clip norm
        let (inbox, outbox) = (text(&random), text(&random))
        layout.string(inbox)
        layout.string(outbox)
        layout.add(.bounded, 4)  // host size: 0, or a divisor of the size with segments
        layout.add(.free, 16)  // shared link tokens
        var setup = RingSetup(
            generation: random.next(), step: random.next(), rank: .random(in: 0..<size, using: &random), size: size,
            rightNeighbour: right, momentum: .random(in: 0..<1, using: &random), nesterov: .random(using: &random),
            weightDecay: .random(in: 0..<0.01, using: &random), ownedStart: UInt64(start), ownedCount: UInt64(count),
            weights: try ZMQMessage(copying: randomBytes((parameters * 4)...(parameters * 4), &random)),
            velocity: try ZMQMessage(copying: randomBytes((count * 4)...(count * 4), &random)),
            rightNeighbourKey: rightKey, leftNeighbourKey: leftKey, leftLinkToken: random.next(), rightLinkToken: random.next())
        setup.inboxSegment = inbox
        setup.outboxSegment = outbox
        (setup.sharedLeftToken, setup.sharedRightToken) = (random.next(), random.next())
        // Two levels when the size has a divisor that fits and both segments are named.
        if size >= 4, size % 2 == 0, !inbox.isEmpty, !outbox.isEmpty, Bool.random(using: &random) { setup.hostSize = 2 }
        return .ringSetup(setup)
    }

    /// A random CURVE public key half the time (any 32 bytes make one), none otherwise.
    private static func curveKey(_ random: inout SplitMix64) -> CurveKey? {
        Bool.random(using: &random) ? CurveKey(bytes: randomBytes(32...32, &random)) : nil
    }

    /// A ring member may be given no shards at all; it still takes its part in the ring.
    private static func ringWork(_ layout: inout Layout, _ random: inout SplitMix64) throws -> WireMessage {
        let sampleCounts = (0..<Int.random(in: 0...4, using: &random)).map { _ in UInt32.random(in: 1...8, using: &random) }
        let samples = sampleCounts.reduce(0) { $0 + Int($1) }
        let maxBatch = welcomedLimits.maxShards * welcomedLimits.shardSize
        layout.add(.free, 20)  // generation, step, learning rate
        layout.count(4, limit: maxBatch + 1, current: nil)
        layout.count(4, limit: sampleCounts.count + 1, current: nil)  // own shards: all of them
        layout.count(4, limit: welcomedLimits.maxShards + 1, current: 0)  // digested ids, none here
        layout.count(4, limit: welcomedLimits.maxShards + 1, current: sampleCounts.count)
        for _ in sampleCounts {
            layout.add(.free, 4)
            layout.count(4, limit: welcomedLimits.shardSize + 1, current: nil)
        }
        return .ringWork(RingWork(
            generation: random.next(), step: random.next(), learningRate: .random(in: 0..<1, using: &random),
            batchSamples: .random(in: UInt32(max(1, samples))...UInt32(maxBatch), using: &random),
            shards: sampleCounts.map { Work.Shard(shardID: .random(in: 0...UInt32.max, using: &random), sampleCount: $0) },
            pixels: try ZMQMessage(copying: randomBytes((samples * 4)...(samples * 4), &random)),
            labels: try ZMQMessage(copying: randomBytes(samples...samples, &random))))
    }

    /// Reduce-scatter chunks carry Int64s, raw or packed; all-gather chunks carry floats, raw or as packed steps.
    private static func ringChunk(_ layout: inout Layout, _ random: inout SplitMix64) throws -> WireMessage {
        // At least one value: an empty raw frame is also a valid empty packed one.
        let count = Int.random(in: 1...parameters, using: &random)
        let encoding = [RingChunk.Encoding.rawInt64, .packedInt64, .rawFloat, .weightSteps].randomElement(using: &random)!
        let values: ZMQMessage
        switch encoding {
        case .rawInt64: values = try ZMQMessage(copying: randomBytes((count * 8)...(count * 8), &random))
        case .packedInt64, .weightSteps: values = try packedFrame(&random, count: count)
        case .rawFloat: values = try ZMQMessage(copying: randomBytes((count * 4)...(count * 4), &random))
        }
        layout.add(.free, 16)
        // Phase and encoding go together, and a short packed frame can also be a valid raw one.
        layout.add(.bounded, 1)
        layout.count(4, limit: RingSetup.maxSize - 1, current: nil)  // round
        layout.count(4, limit: RingSetup.maxSize, current: nil)  // chunk
        layout.add(.bounded, 2)  // non-finite flag, encoding
        // A packed frame's length fits many counts, so the count is range-checked, not structural.
        layout.count(4, limit: parameters + 1, current: nil)
        layout.add(.free, 8)  // link token
        return .ringChunk(RingChunk(
            generation: random.next(), step: random.next(), phase: encoding == .rawFloat || encoding == .weightSteps ? .allGather : .reduceScatter,
            round: .random(in: 0...UInt32(RingSetup.maxSize - 2), using: &random),
            chunk: .random(in: 0..<UInt32(RingSetup.maxSize), using: &random), nonFinite: .random(using: &random),
            encoding: encoding, valueCount: UInt32(count), link: random.next(), values: values))
    }

    /// Text of 0 to 40 bytes, now and then up to the 1024-byte limit, with multi-byte characters.
    private static func text(_ random: inout SplitMix64) -> String {
        let pool = ["a", "z", "Q", "0", " ", "-", "é", "ß", "日", "本", "🙂"]
        let target = Int.random(in: 0...(Int.random(in: 0..<20, using: &random) == 0 ? WireLimits.maxStringBytes : 40), using: &random)
        var text = ""
        while true {
            let next = pool.randomElement(using: &random)!
            if text.utf8.count + next.utf8.count > target { return text }
            text += next
        }
    }

    private struct Layout {
        private(set) var roles: [FieldRole] = Array(repeating: .structural, count: 8)
        private(set) var counts: [CountField] = []

        mutating func add(_ role: FieldRole, _ count: Int) { roles += repeatElement(role, count: count) }

        /// `current` is set for counts of items that follow in the same frame.
        mutating func count(_ width: Int, limit: Int, current: Int?) {
            counts.append(CountField(offset: roles.count, width: width, limit: limit, beyondFrame: current != nil, current: current ?? 0))
            add(current == nil ? .bounded : .structural, width)
        }

        mutating func string(_ text: String) {
            count(2, limit: WireLimits.maxStringBytes + 1, current: text.utf8.count)
            add(.text, text.utf8.count)
        }
    }
}

// MARK: - Damage

private func flipping(_ bits: [(frame: Int, bit: Int)], in parts: [[UInt8]]) -> [[UInt8]] {
    var parts = parts
    for (frame, bit) in bits { parts[frame][bit / 8] ^= 1 << (bit % 8) }
    return parts
}

/// A bit chosen uniformly over all the message's bytes.
private func randomBit(of parts: [[UInt8]], _ random: inout SplitMix64) -> (frame: Int, bit: Int) {
    var bit = Int.random(in: 0..<(parts.reduce(0) { $0 + $1.count } * 8), using: &random)
    for (index, frame) in parts.enumerated() {
        if bit < frame.count * 8 { return (index, bit) }
        bit -= frame.count * 8
    }
    preconditionFailure("bit beyond the message")
}

private func randomBytes(_ counts: ClosedRange<Int>, _ random: inout SplitMix64) -> [UInt8] {
    (0..<Int.random(in: counts, using: &random)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
}

private func mutate(_ seed: [[UInt8]], _ random: inout SplitMix64) -> [[UInt8]] {
    var parts = seed
    for _ in 0..<Int.random(in: 1...4, using: &random) {
        let index = Int.random(in: 0..<max(1, parts.count), using: &random)
        guard parts.indices.contains(index) else {
            parts.append([])
            continue
        }
        switch Int.random(in: 0..<7, using: &random) {
        case 0 where !parts[index].isEmpty:
            parts[index][Int.random(in: 0..<parts[index].count, using: &random)] = UInt8.random(in: 0...255, using: &random)
        case 1:
            parts[index] = Array(parts[index].prefix(Int.random(in: 0...parts[index].count, using: &random)))
        case 2:
            parts[index] += randomBytes(1...16, &random)
        case 3:
            parts.remove(at: index)
        case 4:
            parts.insert(parts[index], at: index)
        case 5 where parts[index].count >= 12:
            // Large values in length and count fields are the interesting ones.
            let offset = Int.random(in: 8..<parts[index].count - 3, using: &random)
            parts[index].replaceSubrange(offset..<offset + 4, with: [0xff, 0xff, UInt8.random(in: 0...255, using: &random), 0x7f])
        default:
            if !parts[index].isEmpty { parts[index].swapAt(0, parts[index].count - 1) }
        }
    }
    return parts
}

// MARK: - Measuring

/// SplitMix64: a seeded generator, so a failing case can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The process's peak resident set (VmHWM), or nil where /proc is not there.
private func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
    else { return nil }
    return kilobytes << 10
}
