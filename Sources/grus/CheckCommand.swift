import ArgumentParser
import Foundation
import GrusRecipes

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a recipe and print it resolved (includes merged, overrides applied, defaults filled).",
        discussion: "Exits with code 2 and lists every problem (file, key path, what is wrong) when the recipe is invalid.")

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @Option(name: .customLong("set"), help: "Override a key: --set training.lr=0.01 (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            let loaded = try RecipeLoader.load(recipe, overrides: overrides)
            print(loaded.resolvedYAML, terminator: "")
        } catch let e as RecipeError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(2)
        }
    }
}
