import Foundation
import GrusCore
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// Runs side by side: a changed recipe does not overwrite a finished run, `--seeds` summarises
/// seeds, and `grus compare` shows what differs.
extension ExperimentTests {
    func testARunWithOtherValuesDoesNotReplaceAFinishedOne() throws {
        let recipe = textRecipe(try textCorpus(), epochs: 1)
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(recipe), out: out).run()
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/model/model.safetensors"))
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(recipe, overrides: ["training.lr=0.02"]), out: out).run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("training.lr") && text.contains("--out") && text.contains("--force"), text)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/model/model.safetensors")), before, "nothing was overwritten")
        XCTAssertTrue(try String(contentsOfFile: out + "/recipe.yaml", encoding: .utf8).contains("lr: 1e-2"))
        // Evaluation keys and thread counts may change; --force replaces the run.
        XCTAssertNoThrow(try Experiment(try RecipeLoader.load(recipe, overrides: ["evaluation.top_k=1", "training.threads=1"]), out: out).run())
        XCTAssertNoThrow(try Experiment(try RecipeLoader.load(recipe, overrides: ["training.lr=0.02"]), out: out).run(force: true))
        XCTAssertTrue(try String(contentsOfFile: out + "/log.txt", encoding: .utf8).contains("replacing the run made with other values of training.lr (--force)"))
    }

    func testSeedsAreSummarisedAndCompared() throws {
        let recipe = textRecipe(try textCorpus(), epochs: 2)
        let out = dir.appendingPathComponent("seeds").path
        let summary = try SeedRuns.run(recipe: recipe, overrides: [], out: out, seeds: 3)
        XCTAssertEqual(summary.seeds, [1, 2, 3])
        let acc = try XCTUnwrap(summary.metrics["accuracy"])
        var single: [Double] = []
        for s in [1, 2, 3] {
            let m = try JSONDecoder().decode(Metrics.self, from: Data(contentsOf: URL(fileURLWithPath: "\(out)/seed-\(s)/metrics.json")))
            single.append(m.accuracy)
            XCTAssertTrue(try String(contentsOfFile: "\(out)/seed-\(s)/recipe.yaml", encoding: .utf8).contains("seed: \(s)"))
        }
        XCTAssertEqual(acc.values, single)
        let mean = single.reduce(0, +) / 3
        XCTAssertEqual(acc.mean, mean, accuracy: 1e-12)
        XCTAssertEqual(acc.std, (single.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(summary.metrics["n"], "counts are not metrics")

        // Compared with a single run at another learning rate: the differing keys, the metrics
        // (the seeds' mean ± std), parameters and training figures.
        let other = dir.appendingPathComponent("lr").path
        try Experiment(try RecipeLoader.load(recipe, overrides: ["training.lr=0.02"]), out: other).run()
        let comparison = RunComparison([try RunSummary.read(out), try RunSummary.read(other)])
        XCTAssertEqual(comparison.differingKeys, ["experiment.seed", "training.lr"])
        let rows = comparison.rows
        XCTAssertEqual(rows[0][0], out + " (3 seeds)")
        let accCol = try XCTUnwrap(comparison.header.firstIndex(of: "accuracy"))
        XCTAssertEqual(rows[0][accCol], String(format: "%.2f ± %.2f", 100 * acc.mean, 100 * acc.std))
        XCTAssertEqual(rows[0][comparison.header.firstIndex(of: "experiment.seed")!], "1,2,3")
        let training = try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: URL(fileURLWithPath: other + "/training.json")))
        XCTAssertEqual(training.epochs, 2)
        XCTAssertEqual(training.sequences, 2 * 400, "two epochs of the 400 training lines")
        XCTAssertEqual(rows[1][comparison.header.firstIndex(of: "parameters")!], String(training.parameters))
        XCTAssertTrue(comparison.markdown.hasPrefix("| run | experiment.seed | training.lr | accuracy"), comparison.markdown)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: comparison.json()) as? [String: Any])
        XCTAssertEqual(json["differing_keys"] as? [String], ["experiment.seed", "training.lr"])
    }
}

/// report.html holds the numbers of the files it was drawn from, and nothing from the network.
extension ExperimentTests {
    func matches(_ pattern: String, in text: String) throws -> [[String]] {
        let re = try NSRegularExpression(pattern: pattern)
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
            (1..<m.numberOfRanges).map { String(text[Range(m.range(at: $0), in: text)!]) }
        }
    }

    func testReportHoldsTheLogAndMetrics() throws {
        let out = dir.appendingPathComponent("exp").path
        let m = try metrics(try Experiment(try RecipeLoader.load(textRecipe(try textCorpus(), epochs: 3)), out: out).run())
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertFalse(html.contains("<script"), "no script")
        XCTAssertEqual(try matches("(https?://[^\"]*)", in: html).map { $0[0] }.filter { $0 != "http://www.w3.org/2000/svg" }, [], "nothing fetched")

        // Learning curves: every epoch's training loss and dev metrics, as train-log.csv wrote them.
        let points = try matches("data-series=\"([^\"]*)\" data-value=\"([^\"]*)\"", in: html)
        let csv = try String(contentsOfFile: out + "/train-log.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = csv[0]
        XCTAssertEqual(csv.count, 4)
        for (column, series) in [("loss", "training loss"), ("dev_loss", "dev loss"), ("dev_accuracy", "accuracy"), ("lr", "learning rate")] {
            let c = try XCTUnwrap(header.firstIndex(of: column), column)
            XCTAssertEqual(points.filter { $0[0] == series }.map { $0[1] }, csv.dropFirst().map { $0[c] }, column)
        }
        // The confusion matrix's counts, row by row, and each class's scores.
        let counts = try matches("<rect [^>]*data-count=\"([0-9]+)\"", in: html).map { Int($0[0])! }
        XCTAssertEqual(counts, m.confusion.matrix.flatMap { $0 })
        for (label, s) in m.perClass {
            for (name, v) in [("precision", s.precision), ("recall", s.recall), ("F1", s.f1)] {
                XCTAssertTrue(html.contains("<title>\(label) \(name) \(String(format: "%.4f", v))</title>"), "\(label) \(name)")
            }
        }
        // Headline, data summary and recipe.
        XCTAssertTrue(html.contains(String(format: "%.2f%%", 100 * m.accuracy)))
        XCTAssertTrue(html.contains("<strong>400</strong>"), "training examples")
        XCTAssertTrue(html.contains("Recipe (resolved)") && html.contains("batch_size: 16"))
    }
}

extension ExperimentTests {
    /// training.average_last: the model is the mean of the last epochs' weights; only those are kept.
    func testAverageOfTheLastEpochs() throws {
        let out = dir.appendingPathComponent("avg").path
        try Experiment(try RecipeLoader.load(textRecipe(try textCorpus(), epochs: 3), overrides: ["training.average_last=2"]), out: out).run()
        let fm = FileManager.default
        XCTAssertFalse(fm.fileExists(atPath: out + "/checkpoints/epoch-1.safetensors"))
        let a = try Safetensors.load(URL(fileURLWithPath: out + "/checkpoints/epoch-2.safetensors")).tensors
        let b = try Safetensors.load(URL(fileURLWithPath: out + "/checkpoints/epoch-3.safetensors")).tensors
        let model = try Safetensors.load(URL(fileURLWithPath: out + "/model/model.safetensors")).tensors
        XCTAssertEqual(Set(model.keys), Set(a.keys))
        for (k, t) in model {
            for i in 0..<t.count { XCTAssertEqual(t.data[i], Float((Double(a[k]!.data[i]) + Double(b[k]!.data[i])) / 2), accuracy: 1e-7, k) }
        }
        XCTAssertNotEqual(model["head.weight"], b["head.weight"])
        XCTAssertTrue(try String(contentsOfFile: out + "/log.txt", encoding: .utf8).contains("the model is the mean of the weights after epochs 2, 3"))
    }
}

extension ExperimentTests {
    /// A Cho 2014 encoder's weights cannot pass for nn.GRU's: its hidden biases have their own
    /// names and the metadata says the form. Grus itself loads them as before.
    func testCho2014WeightsCarryTheirForm() throws {
        let corpus = try textCorpus()
        let out = dir.appendingPathComponent("cho").path
        let m = try metrics(try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 2), overrides: ["model.encoder.form=cho2014"]), out: out).run())
        let (tensors, meta) = try Safetensors.load(URL(fileURLWithPath: out + "/model/model.safetensors"))
        XCTAssertEqual(meta["grus_gru_form"], "cho2014")
        XCTAssertNotNil(tensors["encoder.bias_hh_cho2014_l0"])
        XCTAssertNil(tensors["encoder.bias_hh_l0"], "a strict nn.GRU load must fail")
        XCTAssertNotNil(tensors["encoder.bias_ih_l0"])
        let items = try GrusData.CorpusReader.textFile(corpus + "/test.txt", split: .test, format: .fasttext).items
        let again = try metrics(try Models.load(out).evaluate(items, topK: 3, predictions: nil) { _ in }.report)
        XCTAssertEqual(again.confusion, m.confusion)
        // The PyTorch form keeps PyTorch's names.
        let torchForm = dir.appendingPathComponent("pt").path
        try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 1)), out: torchForm).run()
        let (pt, ptMeta) = try Safetensors.load(URL(fileURLWithPath: torchForm + "/model/model.safetensors"))
        XCTAssertEqual(ptMeta["grus_gru_form"], "pytorch")
        XCTAssertNotNil(pt["encoder.bias_hh_l0"])
    }
}

extension ExperimentTests {
    /// model.encoder.cell: lstm end to end: trains, saves nn.LSTM's names and shapes, reloads
    /// for evaluation, exports to ONNX.
    func testLSTMEncoderEndToEnd() throws {
        let corpus = try textCorpus()
        let out = dir.appendingPathComponent("lstm").path
        let m = try metrics(try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 6), overrides: ["model.encoder.cell=lstm"]), out: out).run())
        XCTAssertGreaterThanOrEqual(m.accuracy, 0.95)
        let tensors = try Safetensors.load(URL(fileURLWithPath: out + "/model/model.safetensors")).tensors
        XCTAssertEqual(tensors["encoder.weight_ih_l0"]?.shape, [64, 16], "4H × E, as nn.LSTM")
        XCTAssertEqual(tensors["encoder.weight_hh_l0"]?.shape, [64, 16])
        let items = try GrusData.CorpusReader.textFile(corpus + "/test.txt", split: .test, format: .fasttext).items
        let again = try metrics(try Models.load(out).evaluate(items, topK: 3, predictions: nil) { _ in }.report)
        XCTAssertEqual(again.confusion, m.confusion)
        XCTAssertNoThrow(try ONNXExport.export(experiment: out, to: dir.appendingPathComponent("x.onnx")), "ONNX's LSTM operator")
        XCTAssertThrowsError(try RecipeLoader.load(textRecipe(corpus, epochs: 1), overrides: ["model.encoder.cell=lstm", "model.encoder.form=cho2014"])) {
            XCTAssertTrue("\($0)".contains("model.encoder.form"), "\($0)")
        }
    }
}
