import ArgumentParser
import GrusCore

@main
struct Grus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grus",
        abstract: "Speech and text sequence labelling with gated recurrent units.",
        version: "0.2.0",
        subcommands: [Run.self, Eval.self, Predict.self, Check.self, RecipeKeys.self, Features.self, Toy.self]
    )
}
