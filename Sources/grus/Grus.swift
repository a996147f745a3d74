import ArgumentParser
import GrusCore

@main
struct Grus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grus",
        abstract: "Speech and text sequence classification with gated recurrent units.",
        version: "0.1.0",
        subcommands: [Run.self, Eval.self, Predict.self, Check.self, Features.self, Toy.self]
    )
}
