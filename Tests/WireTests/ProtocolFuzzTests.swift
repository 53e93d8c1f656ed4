import Wire
import XCTest

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

final class ProtocolFuzzTests: XCTestCase {
    func testTenThousandDamagedMessagesNeverCrashTheDecoder() throws {
        var random = SplitMix64(state: 0x5EED)
        let seeds: [[[UInt8]]] = try [
            .hello(Hello(pid: 1, workerName: "fuzz")), .welcome(sampleWelcome), .refuse(reason: "no"),
            .work(try makeWork()), .gradient(try makeGradient()), .heartbeat, .shutdown(reason: "bye"),
        ].map(encodedBytes)
        var decoded = 0
        for iteration in 0..<10_000 {
            let parts = iteration % 10 == 0
                ? randomFrames(&random) : mutate(seeds[iteration % seeds.count], &random)
            for limits in [welcomedLimits, .beforeWelcome] {
                do {
                    let message = try WireMessage.decode(try frames(parts), limits: limits)
                    touch(message)
                    decoded += 1
                } catch is ProtocolError {
                    continue
                } catch {
                    XCTFail("iteration \(iteration): not a ProtocolError: \(error)")
                }
            }
        }
        // Some mutations leave a message valid (e.g. a changed step); most must not.
        XCTAssertGreaterThan(decoded, 0)
        XCTAssertLessThan(decoded, 20_000)
    }

    /// Reads every field and bulk element, so a decoded message's claims are exercised too.
    private func touch(_ message: WireMessage) {
        switch message {
        case .work(let work):
            _ = work.withWeights { $0.reduce(0, +) }
            _ = work.withPixels { $0.reduce(0) { $0 &+ Int($1) } }
            _ = work.withLabels { $0.count }
        case .gradient(let gradient):
            _ = gradient.withGradient { $0.reduce(0, &+) }
        case .hello, .welcome, .refuse, .heartbeat, .shutdown:
            _ = "\(message)"
        }
    }

    private func randomFrames(_ random: inout SplitMix64) -> [[UInt8]] {
        (0..<Int.random(in: 0...5, using: &random)).map { _ in
            var frame = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if frame.count >= 8 && Bool.random(using: &random) {
                frame.replaceSubrange(0..<8, with: Array("DPTR".utf8) + [1, 0, UInt8.random(in: 0...8, using: &random), 0])
            }
            return frame
        }
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
                parts[index] += (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
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
}
