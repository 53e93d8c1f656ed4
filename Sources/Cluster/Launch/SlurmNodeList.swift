/// Slurm's compressed host lists, as in `SLURM_JOB_NODELIST`:
/// `node[01-04,07]`, `tux[2,4-6],login1`, `rack[1-2]-node[3-4]`. Ranges
/// keep their zero padding (`[01-10]` gives node01 ... node10); a list may
/// join several names with commas outside brackets; several bracketed parts
/// in one name expand to every combination, in order.
public enum SlurmNodeList {
    public struct Malformed: Error, CustomStringConvertible {
        public let list: String
        public let problem: String
        public var description: String { "SLURM_JOB_NODELIST '\(list)': \(problem)" }
    }

    /// The hosts, in Slurm's order (task ranks follow it).
    public static func expand(_ list: String) throws -> [String] {
        var hosts: [String] = []
        for name in try splitTopLevel(list) {
            hosts += try expandName(Substring(name), list: list)
        }
        guard !hosts.isEmpty else { throw Malformed(list: list, problem: "names no host") }
        return hosts
    }

    /// Splits at commas that are not inside brackets.
    private static func splitTopLevel(_ list: String) throws -> [String] {
        var parts: [String] = [], current = "", depth = 0
        for character in list {
            switch character {
            case "[": depth += 1; current.append(character)
            case "]":
                depth -= 1
                guard depth >= 0 else { throw Malformed(list: list, problem: "a ']' without its '['") }
                current.append(character)
            case "," where depth == 0:
                parts.append(current)
                current = ""
            default: current.append(character)
            }
        }
        guard depth == 0 else { throw Malformed(list: list, problem: "a '[' without its ']'") }
        parts.append(current)
        guard parts.allSatisfy({ !$0.isEmpty }) else { throw Malformed(list: list, problem: "an empty name") }
        return parts
    }

    /// One name with any number of bracketed parts.
    private static func expandName(_ name: Substring, list: String) throws -> [String] {
        guard let open = name.firstIndex(of: "[") else { return [String(name)] }
        guard let close = name[open...].firstIndex(of: "]") else { throw Malformed(list: list, problem: "a '[' without its ']'") }
        let prefix = String(name[..<open])
        let choices = try expandRanges(name[name.index(after: open)..<close], list: list)
        let rests = try expandName(name[name.index(after: close)...], list: list)
        return choices.flatMap { choice in rests.map { prefix + choice + $0 } }
    }

    /// `01-04,07` -> 01 02 03 04 07.
    private static func expandRanges(_ ranges: Substring, list: String) throws -> [String] {
        var out: [String] = []
        for part in ranges.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high else {
                throw Malformed(list: list, problem: "'\(part)' is not a number or a range low-high")
            }
            guard high - low < 65_536 else { throw Malformed(list: list, problem: "the range '\(part)' is too long") }
            let width = bounds[0].count
            for value in low...high {
                let digits = String(value)
                out.append(String(repeating: "0", count: max(0, width - digits.count)) + digits)
            }
        }
        return out
    }
}
