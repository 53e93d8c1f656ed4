import ArgumentParser

struct DPTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dptrain",
        abstract: "Data-parallel MLP training on MNIST-format data over ZeroMQ.",
        subcommands: [
            Train.self, Simulate.self, Coordinator.self, Worker.self,
            Evaluate.self, FetchData.self,
        ])
}

DPTrain.main()
