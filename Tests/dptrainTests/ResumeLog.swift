/// The step a resumed run picked up at, from its `resuming RUN at epoch E,
/// step S` line; nil if `log` has none for `run`. A fault placed by an event
/// lands a few steps after it on a busy machine, so tests that stop a run
/// and resume it check that it resumed mid-run, not at which exact step.
func resumedStep(of run: String, in log: String) -> Int? {
    log.split(separator: "\n").first { $0.contains("resuming \(run) at epoch ") }
        .flatMap { line in line.range(of: ", step ").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) } }
}
