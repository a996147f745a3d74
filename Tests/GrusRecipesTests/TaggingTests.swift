import Foundation
import GrusCore
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
import GrusNN
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// The tag task end to end on a corpus made here: numbers and colours as spans among filler.
final class TaggingTests: FolderTestCase {
    /// CoNLL columns "token tag"; a number word is B-NUM (I-NUM when it follows another), a colour B-COL.
    func corpus() throws -> String {
        var rng = RNG(seed: 4)
        let numbers = ["one", "two", "three", "four", "five", "six"], colours = ["red", "green", "blue", "grey"]
        let filler = ["the", "a", "box", "is", "and", "we", "saw", "of", "cars", "on", "table"]
        func sentence() -> String {
            var lines: [String] = [], previousNumber = false
            for _ in 0..<(4 + rng.int(below: 8)) {
                let r = rng.int(below: 10)
                if r < 2 { lines.append("\(numbers[rng.int(below: numbers.count)]) \(previousNumber ? "I-NUM" : "B-NUM")"); previousNumber = true; continue }
                if r < 3 { lines.append("\(colours[rng.int(below: colours.count)]) B-COL") } else { lines.append("\(filler[rng.int(below: filler.count)]) O") }
                previousNumber = false
            }
            return lines.joined(separator: "\n")
        }
        let c = dir.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        for (name, n) in [("train.txt", 300), ("dev.txt", 40), ("test.txt", 60)] {
            try ("-DOCSTART- O\n\n" + (0..<n).map { _ in sentence() }.joined(separator: "\n\n") + "\n").write(to: c.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return c.path
    }

    func testTaggerLearnsSpansAndEvalReproducesIt() throws {
        let c = try corpus()
        let p = recipe("tag.yaml", """
        task: tag
        corpus: {format: conll, path: \(c), train: train.txt, dev: dev.txt, test: test.txt}
        frontend: {type: text}
        model: {embedding_dim: 16, encoder: {hidden: 16, layers: 1}}
        training: {epochs: 8, batch_size: 16, lr: 0.01}
        """)
        let out = dir.appendingPathComponent("exp").path
        let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? TagReport)
        XCTAssertEqual(report.n, 60)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.spanF1), 0.95)
        XCTAssertGreaterThanOrEqual(report.tokenAccuracy, 0.95)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        for key in ["token_accuracy", "span_precision", "span_recall", "span_f1", "per_type", "n"] { XCTAssertNotNil(metrics[key], key) }
        let line = try String(contentsOfFile: out + "/predictions.jsonl", encoding: .utf8).split(separator: "\n")[0]
        let first = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        XCTAssertEqual((first["tags"] as? [String])?.count, (first["tokens"] as? [String])?.count)
        XCTAssertNotNil(first["gold_tags"])
        // eval on the test file with the model alone reproduces the run.
        let model = try Models.load(out)
        XCTAssertEqual(model.taskName, "tag")
        let items = try CorpusReader.conll(c + "/test.txt", split: .test).items
        let (again, bad) = try model.evaluate(items, topK: 1, predictions: nil) { _ in }
        XCTAssertEqual(bad, [])
        XCTAssertEqual(try XCTUnwrap(again as? TagReport).spanF1, report.spanF1)
        // predict labels raw lines, one tag per whitespace-separated token.
        var lines: [String] = []
        model.predict(AnySequence([(input: "we saw two three red cars", origin: "s")]), topK: 1) { _, r in
            if case let .success((text, _)) = r { lines.append(text) }
        }
        XCTAssertEqual(lines, ["O O B-NUM I-NUM B-COL O"])
    }

    func testTaskAndCorpusMustAgree() {
        let p = dir.appendingPathComponent("x.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("corpus: {format: conll, path: \(dir.path)}\nfrontend: {type: text}\n".utf8))
        XCTAssertThrowsError(try RecipeLoader.load(p)) { XCTAssertTrue("\($0)".contains("task: corpus.format 'conll' gives a tag per token; use task: tag"), "\($0)") }
        XCTAssertThrowsError(try RecipeLoader.load(p, overrides: ["task=tag", "training.early_stopping.metric=macro_f1"])) {
            XCTAssertTrue("\($0)".contains("task tag reports span_f1, token_accuracy, loss"), "\($0)")
        }
    }

    /// Plain tags (part of speech) have no spans: the best checkpoint is picked by token accuracy.
    func testPlainTagsArePickedByTokenAccuracy() {
        XCTAssertEqual(TagTask(labels: ["NOUN", "VERB", "ADP"]).defaultDevMetric, "token_accuracy")
        XCTAssertEqual(TagTask(labels: ["O", "B-PER", "I-PER"]).defaultDevMetric, "span_f1")
    }

    /// With a CRF and the BIO mask: it learns the spans, and no prediction holds O → I-X or starts with I-X.
    func testCRFTaggerLearnsAndNeverDecodesForbiddenTransitions() throws {
        let c = try corpus()
        let p = recipe("crf.yaml", """
        task: tag
        corpus: {format: conll, path: \(c), train: train.txt, dev: dev.txt, test: test.txt}
        frontend: {type: text}
        model: {embedding_dim: 16, encoder: {hidden: 16, layers: 1}, head: {crf: true, transition_mask: iob2}}
        training: {epochs: 8, batch_size: 16, lr: 0.01}
        """)
        let out = dir.appendingPathComponent("exp").path
        let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? TagReport)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.spanF1), 0.95)
        let weights = try Safetensors.load(URL(fileURLWithPath: out + "/model/model.safetensors")).tensors
        XCTAssertNotNil(weights["crf.transitions"])
        for line in try String(contentsOfFile: out + "/predictions.jsonl", encoding: .utf8).split(separator: "\n") {
            let tags = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["tags"] as! [String]
            for (a, b) in zip([nil] + tags.map { Optional($0) }, tags) { XCTAssertTrue(TagScheme.iob2.allows(a, b), "\(a ?? "start") → \(b)") }
        }
        XCTAssertThrowsError(try RecipeLoader.load(p, overrides: ["model.head.crf=false"])) {
            XCTAssertTrue("\($0)".contains("model.head.transition_mask: masks the CRF's transitions"), "\($0)")
        }
    }
}

extension TaggingTests {
    /// Joint intent + slots on a seq.in corpus made here: intent from the verb, slots for cities and times.
    func testJointTaskLearnsIntentsAndSlots() throws {
        var rng = RNG(seed: 8)
        let cities = ["boston", "denver", "paris", "oslo"], times = ["monday", "noon", "tonight"]
        func example() -> (String, String, String) {
            let book = rng.int(below: 2) == 0
            var toks = [book ? "book" : "show", "a", book ? "flight" : "fare", "to"], tags = ["O", "O", "O", "O"]
            toks.append(cities[rng.int(below: cities.count)]); tags.append("B-city")
            if rng.int(below: 2) == 0 { toks += ["on", times[rng.int(below: times.count)]]; tags += ["O", "B-time"] }
            return (toks.joined(separator: " "), tags.joined(separator: " "), book ? "book_flight" : "show_fare")
        }
        for (split, n) in [("train", 200), ("valid", 40)] {
            let rows = (0..<n).map { _ in example() }
            let f = dir.appendingPathComponent("slu/\(split)")
            try FileManager.default.createDirectory(at: f, withIntermediateDirectories: true)
            try (rows.map(\.0).joined(separator: "\n") + "\n").write(to: f.appendingPathComponent("seq.in"), atomically: true, encoding: .utf8)
            try (rows.map(\.1).joined(separator: "\n") + "\n").write(to: f.appendingPathComponent("seq.out"), atomically: true, encoding: .utf8)
            try (rows.map(\.2).joined(separator: "\n") + "\n").write(to: f.appendingPathComponent("label"), atomically: true, encoding: .utf8)
        }
        let p = recipe("joint.yaml", """
        task: joint
        corpus: {format: seq_in, path: \(dir.appendingPathComponent("slu").path), train: train, dev: valid, test: ""}
        frontend: {type: text}
        model: {embedding_dim: 16, encoder: {hidden: 16, layers: 1}, head: {pooling: max, crf: true, transition_mask: iob2}}
        training: {epochs: 8, batch_size: 16, lr: 0.01}
        """)
        let out = dir.appendingPathComponent("exp").path
        let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? JointReport)
        XCTAssertEqual(report.n, 40)
        XCTAssertGreaterThanOrEqual(report.intentAccuracy, 0.95)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.slots.spanF1), 0.95)
        XCTAssertGreaterThanOrEqual(report.sentenceAccuracy, 0.9)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        for key in ["intent_accuracy", "sentence_accuracy", "token_accuracy", "span_precision", "span_recall", "span_f1", "per_type", "n"] {
            XCTAssertNotNil(metrics[key], key)
        }
        var lines: [String] = []
        try Models.load(out).predict(AnySequence([(input: "book a flight to oslo on noon", origin: "s")]), topK: 1) { _, r in
            if case let .success((text, _)) = r { lines.append(text) }
        }
        XCTAssertEqual(lines.first?.hasPrefix("book_flight "), true, "\(lines)")
        XCTAssertEqual(lines.first?.hasSuffix("\tO O O O B-city O B-time"), true, "\(lines)")
    }
}

/// Tag schemes in recipes, unknown tags at evaluation, plain tags.
extension TaggingTests {
    func recipe(_ name: String, _ body: String) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(body.utf8))
        return p
    }

    /// BIO data learnt as IOBES: tags are converted as read, the CRF mask follows IOBES, and
    /// every prediction is well-formed IOBES.
    func testTagSchemeIOBESConvertsAndMasks() throws {
        let c = try corpus()
        let p = recipe("iobes.yaml", """
        task: tag
        corpus: {format: conll, path: \(c), train: train.txt, dev: dev.txt, test: test.txt}
        frontend: {type: text}
        model: {embedding_dim: 16, encoder: {hidden: 16, layers: 1}, head: {crf: true, transition_mask: auto, tag_scheme: iobes}}
        training: {epochs: 8, batch_size: 16, lr: 0.01}
        """)
        let out = dir.appendingPathComponent("exp").path
        let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? TagReport)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.spanF1), 0.95)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/model/model.json"))) as! [String: Any]
        let labels = json["labels"] as! [String]
        XCTAssertTrue(labels.contains("S-COL") && labels.contains("E-NUM") && !labels.contains("B-COL"), "\(labels)")
        let allowed = (json["architecture"] as! [String: Any])["allowed"] as! [Bool]
        let o = labels.firstIndex(of: "O")!, e = labels.firstIndex(of: "E-NUM")!
        XCTAssertFalse(allowed[o * labels.count + e], "O → E-NUM must be masked")
        for line in try String(contentsOfFile: out + "/predictions.jsonl", encoding: .utf8).split(separator: "\n") {
            let tags = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["tags"] as! [String]
            for (a, b) in zip([nil] + tags.map { Optional($0) }, tags.map { Optional($0) } + [nil]) {
                XCTAssertTrue(TagScheme.iobes.allows(a, b), "\(a ?? "start") → \(b ?? "end")")
            }
        }
        XCTAssertThrowsError(try RecipeLoader.load(p, overrides: ["model.head.transition_mask=iob2"])) {
            XCTAssertTrue("\($0)".contains("model.head.transition_mask: is iob2, but the model learns iobes tags"), "\($0)")
        }
        XCTAssertThrowsError(try RecipeLoader.load(p, overrides: ["model.head.tag_scheme=bio"])) {
            XCTAssertTrue("\($0)".contains("model.head.tag_scheme"), "\($0)")
        }
    }

    /// Part-of-speech tags are not spans: converting them is an error naming the sentence.
    func testTagSchemeRefusesPlainTags() throws {
        let c = dir.appendingPathComponent("pos")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        try "the DET\ncat NOUN\n\nit PRON\nran VERB\n".write(to: c.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        let p = recipe("pos.yaml", """
        task: tag
        corpus: {format: conll, path: \(c.path), train: train.txt, dev: "", test: ""}
        frontend: {type: text}
        model: {head: {tag_scheme: iob2}}
        """)
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(p), out: dir.appendingPathComponent("exp").path).run()) {
            XCTAssertTrue("\($0)".contains("train.txt:1: tag 'DET' is not a span tag"), "\($0)")
        }
    }

    /// Gold transitions a scheme forbids (ill-formed BIO) stay allowed, so their loss is finite;
    /// the others are masked. `auto` reads the scheme off the training tags.
    func testObservedTransitionsStayAllowed() throws {
        let r = try RecipeLoader.load(recipe("m.yaml", "task: tag\ncorpus: {format: conll, path: \(dir.path)}\nfrontend: {type: text}\nmodel: {head: {crf: true, transition_mask: auto}}\n")).recipe
        let task = TagTask(labels: ["O", "B-X", "I-X", "B-Y", "I-Y"])
        let spec = ModelSpec(vocabularySize: 10, encoder: r.model.encoder.gruConfig(inputSize: 4), head: r.model.headOptions,
                             trainingTags: [["B-X", "I-X", "O"], ["O", "I-Y", "O"], ["B-Y"]])
        let config = task.taggerConfig(spec)
        let allowed = try XCTUnwrap(config.allowed), c = 5
        XCTAssertTrue(allowed[0 * c + 4], "O → I-Y occurs in training")
        XCTAssertFalse(allowed[0 * c + 2], "O → I-X does not, and IOB2 forbids it")
        XCTAssertFalse(allowed[1 * c + 4], "B-X → I-Y")
        XCTAssertEqual(config.allowedStart, [true, true, false, true, false])
        XCTAssertEqual(TagScheme.detect(spec.trainingTags), .iob2)
    }

    /// A tag the model never saw is counted and named in the report; plain tags have no span scores.
    func testUnknownTagsAreNamedAndPlainTagsHaveNoSpans() throws {
        let c = try corpus()
        let p = recipe("t.yaml", """
        task: tag
        corpus: {format: conll, path: \(c), train: train.txt, dev: dev.txt, test: ""}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1}
        """)
        let out = dir.appendingPathComponent("exp").path
        _ = try Experiment(try RecipeLoader.load(p), out: out).run()
        let items = [Item(input: "a red box", label: "", split: .test, origin: "f:1"), Item(input: "one box", label: "", split: .test, origin: "f:5"),
                     Item(input: "the box", label: "", split: .test, origin: "f:9")]
        var tagged = items
        (tagged[0].tokens, tagged[0].tags) = (["a", "red", "box"], ["O", "B-SHAPE", "O"])
        (tagged[1].tokens, tagged[1].tags) = (["one", "box"], ["B-NUM", "B-SHAPE"])
        (tagged[2].tokens, tagged[2].tags) = (["the", "box"], ["O", "O"])
        let (report, _) = try Models.load(out).evaluate(tagged, topK: 1, predictions: nil) { _ in }
        XCTAssertEqual(report.unknownLabels, ["B-SHAPE": 2])
        XCTAssertEqual(report.n, 1)
        XCTAssertTrue(report.table(title: "test").contains("B-SHAPE (2)"), report.table(title: "test"))

        let pos = TagTask(labels: ["DET", "NOUN"]).report([[0, 1]], [[0, 0]], unknown: [:], topK: 1)
        XCTAssertNil(pos.spanF1)
        XCTAssertEqual(pos.tokenAccuracy, 0.5)
        let json = try JSONSerialization.jsonObject(with: try pos.json()) as! [String: Any]
        XCTAssertTrue(json["span_f1"] is NSNull, "span_f1 is null for plain tags")
    }
}

extension TaggingTests {
    /// Words never seen in training, tagged by their spelling: "-ly" words are B-ADV, "-ed" words
    /// B-VERB. The character encoder learns it; word embeddings alone cannot (every test word is
    /// <unk>).
    func testCharacterEncoderTagsUnseenWords() throws {
        var rng = RNG(seed: 12)
        let letters = Array("bcdfghjklmnprstvwz"), vowels = Array("aeiou")
        func stem() -> String { String((0..<(2 + rng.int(below: 3))).map { k in k % 2 == 0 ? letters[rng.int(below: letters.count)] : vowels[rng.int(below: vowels.count)] }) }
        let filler = ["the", "a", "we", "it", "and", "then", "of"]
        func sentence() -> String {
            (0..<(4 + rng.int(below: 5))).map { _ in
                switch rng.int(below: 4) {
                case 0: return stem() + "ly B-ADV"
                case 1: return stem() + "ed B-VERB"
                default: return filler[rng.int(below: filler.count)] + " O"
                }
            }.joined(separator: "\n")
        }
        let c = dir.appendingPathComponent("spell")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        for (name, n) in [("train.txt", 400), ("dev.txt", 60)] {
            try ((0..<n).map { _ in sentence() }.joined(separator: "\n\n") + "\n").write(to: c.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        func run(_ dim: Int) throws -> Double {
            let p = recipe("chars\(dim).yaml", """
            task: tag
            corpus: {format: conll, path: \(c.path), train: train.txt, dev: dev.txt, test: ""}
            frontend: {type: text, text: {min_count: 2}}
            model: {embedding_dim: 16, char_encoder: {dim: \(dim), hidden: 16}, encoder: {hidden: 16, layers: 1}}
            training: {epochs: 6, batch_size: 16, lr: 0.01}
            """)
            let out = dir.appendingPathComponent("exp\(dim)").path
            let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? TagReport)
            if dim > 0 {
                // The saved model reads characters again at prediction time.
                var lines: [String] = []
                try Models.load(out).predict(AnySequence([(input: "we zoveked it mipuly", origin: "s")]), topK: 1) { _, r in
                    if case let .success((text, _)) = r { lines.append(text) }
                }
                XCTAssertEqual(lines, ["O B-VERB O B-ADV"])
            }
            return try XCTUnwrap(report.spanF1)
        }
        let words = try run(0), chars = try run(8)
        XCTAssertGreaterThanOrEqual(chars, 0.95)
        XCTAssertGreaterThan(chars, words + 0.2, "characters \(chars), words alone \(words)")
        XCTAssertThrowsError(try RecipeLoader.load(recipe("bad.yaml", "corpus: {format: text_tsv, path: \(c.path)}\nfrontend: {type: text}\nmodel: {char_encoder: {dim: 8}}\n"))) {
            XCTAssertTrue("\($0)".contains("model.char_encoder.dim: reads the characters of text tokens"), "\($0)")
        }
    }
}

extension TaggingTests {
    /// Pretrained vectors initialise a tagger's word embedding (frozen here, so they stay as read)
    /// beside the character encoder; the encoder's input is the vectors' size plus the characters'.
    func testTaggerWithPretrainedVectorsAndCharacters() throws {
        let c = try corpus()
        let vec = dir.appendingPathComponent("v.vec")
        try "3 4\nred 0.5 -1 0.25 2\nthe 1 1 1 1\nbox -0.5 0 0 0.125\n".write(to: vec, atomically: true, encoding: .utf8)
        let p = recipe("vec.yaml", """
        task: tag
        corpus: {format: conll, path: \(c), train: train.txt, dev: dev.txt, test: ""}
        frontend: {type: text, text: {pretrained_vectors: \(vec.path), freeze_embeddings: true}}
        model: {char_encoder: {dim: 8, hidden: 6}, encoder: {hidden: 16, layers: 1}, head: {crf: true, transition_mask: auto}}
        training: {epochs: 6, batch_size: 16, lr: 0.01}
        """)
        let out = dir.appendingPathComponent("exp").path
        let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? TagReport)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.spanF1), 0.9)
        let log = try String(contentsOfFile: out + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("pretrained vectors: 3 of"), log)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/model/model.json"))) as! [String: Any]
        let arch = json["architecture"] as! [String: Any]
        XCTAssertEqual((arch["encoder"] as! [String: Any])["inputSize"] as? Int, 4 + 12)
        let model = try Models.load(out)
        guard case let .text(encoder) = model.frontEnd else { return XCTFail("a text model") }
        let weights = try Safetensors.load(URL(fileURLWithPath: out + "/model/model.safetensors")).tensors
        let emb = try XCTUnwrap(weights["embedding.weight"]), red = try XCTUnwrap(encoder.vocabulary.id("red"))
        XCTAssertEqual(Array(emb.data[(red * 4)..<(red * 4 + 4)]), [0.5, -1, 0.25, 2])
        XCTAssertNotNil(weights["chars.embedding.weight"])
    }

    /// The shipped tagging corpus and recipe (corpora/home-slots), as `grus run` runs them, briefly.
    func testShippedSlotRecipe() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let recipePath = root.appendingPathComponent("Recipes/home-slots.yaml").path
        let r = try RecipeLoader.load(recipePath, overrides: ["corpus.path=\(root.path)/corpora/home-slots", "training.epochs=4"])
        let report = try XCTUnwrap(try Experiment(r, out: dir.appendingPathComponent("exp").path).run() as? JointReport)
        XCTAssertEqual(report.n, 350)
        XCTAssertEqual(report.split, "test")
        XCTAssertGreaterThanOrEqual(report.intentAccuracy, 0.9)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.slots.spanF1), 0.7)
    }
}

extension TaggingTests {
    /// Word dropout replaces about its share of the valid tokens with <unk>, never padding, and
    /// leaves the characters alone.
    func testWordDropout() {
        var rng = RNG(seed: 3)
        let seqs = (0..<50).map { i in (0..<(1 + i % 20)).map { 2 + ($0 + i) % 7 } }
        var batch = SequenceBatch.padding(seqs)
        batch.setCharacters(seqs.map { $0.map { [$0] } })
        let before = batch
        dropWords(&batch, probability: 0.25, unknown: 1, rng: &rng)
        let valid = Set(SequenceTagger.validRows(lengths: batch.lengths))
        var dropped = 0
        for (k, id) in batch.tokens!.enumerated() {
            if !valid.contains(k) { XCTAssertEqual(id, 0, "padding stays"); continue }
            if id != before.tokens![k] { XCTAssertEqual(id, 1); dropped += 1 }
        }
        XCTAssertEqual(Double(dropped) / Double(valid.count), 0.25, accuracy: 0.05)
        XCTAssertEqual(batch.characters!, before.characters!)
    }
}
