import ArgumentParser
import Foundation
import GrusCore
import GrusNN

struct Toy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small GRU on a synthetic task that needs memory, and print its accuracy.",
        discussion: """
        marker-order: sequences of 20-40 noise symbols hold one A and one B; the label says which came \
        first. A working GRU learns it to 99% or more in a few seconds.
        """)

    enum Task: String, ExpressibleByArgument, CaseIterable { case markerOrder = "marker-order" }

    @Option(help: "The task (\(Task.allCases.map(\.rawValue).joined(separator: ", "))).") var task: Task = .markerOrder
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Training epochs (1 to 1000).") var epochs: Int = 6
    @Option(help: "Training sequences (32 to 1000000).") var trainSize: Int = 2048
    @Option(help: "Write the trained weights here (safetensors).") var save: String?

    func validate() throws {
        guard (1...1000).contains(epochs) else { throw ValidationError("--epochs must be 1 to 1000, got \(epochs)") }
        guard (32...1_000_000).contains(trainSize) else { throw ValidationError("--train-size must be 32 to 1000000, got \(trainSize)") }
    }

    func run() throws {
        let start = Date()
        print("epoch  train-loss  test-accuracy  seconds")
        let r = MarkerOrderRun.train(seed: seed, epochs: epochs, trainSize: trainSize) { epoch, loss, acc in
            print(String(format: "%5d  %10.4f  %13.2f%%  %7.2f", epoch, loss, acc * 100, Date().timeIntervalSince(start)))
        }
        print(String(format: "marker-order: %.2f%% test accuracy in %.1f s (%d steps; loss %.4f, first %.4f)",
                     r.testAccuracy * 100, Date().timeIntervalSince(start), r.steps, r.finalLoss, r.firstLoss))
        if let save {
            try reportingErrors { try Safetensors.save(r.weights, metadata: ["format": "pt"], to: URL(fileURLWithPath: save)) }
        }
    }
}
