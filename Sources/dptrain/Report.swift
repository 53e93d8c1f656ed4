import ArgumentParser
import Report
import Training

/// `dptrain report RUN_DIR`: RUN_DIR/report.html, one self-contained page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write RUN_DIR/report.html: curves, the confusion matrix on the test set, the most confident mistakes.",
        discussion: "The test set is the run's own (recorded in RUN_DIR/run.json); --dataset or --data names another. The page needs no network: charts are inline SVG, images PNG data URIs.")

    @Argument(help: ArgumentHelp("A run folder with metrics.jsonl and model.safetensors.", valueName: "RUN_DIR"))
    var folder: String
    /// Another test set than the run's (run.json), or the run's when it has none.
    @OptionGroup var data: DataOptions

    func run() throws {
        let source = data.dataset == nil && data.data == nil ? nil : try data.source()
        let output = Output.standard()
        let page = try RunReport.write(run: folder, source: source, log: output.info)
        output.result("report: \(page.path)")
    }
}
