import Foundation
import GrusCore
import GrusInference
import GrusRecipes
import GrusReports
import GrusTrain

/// `grus run RECIPE --seeds N`: the recipe once per seed (the recipe's experiment.seed and the
/// N − 1 after it), each in OUT/seed-K, then OUT/seeds.json with every metric's mean and
/// standard deviation. Small corpora swing by points from seed to seed; one run says little.
public enum SeedRuns {
    public static func run(recipe: String, overrides: [String], out: String?, seeds: Int,
                           resume: Bool = false, force: Bool = false) throws -> SeedSummary {
        let base = try RecipeLoader.load(recipe, overrides: overrides)
        let folder = URL(fileURLWithPath: out ?? base.recipe.experiment.out)
        try makeFolder(folder, for: "the seeds' folder")
        var runs: [RunSummary] = [], list: [Int] = []
        for k in 0..<seeds {
            let seed = base.recipe.experiment.seed + k
            let loaded = try RecipeLoader.load(recipe, overrides: overrides + ["experiment.seed=\(seed)"])
            let sub = folder.appendingPathComponent("seed-\(seed)").path
            try Experiment(loaded, out: sub).run(resume: resume, force: force)
            runs.append(try RunSummary.read(sub))
            list.append(seed)
        }
        let summary = SeedSummary.of(runs, seeds: list)
        try summary.save(to: folder)
        return summary
    }
}
