import XCTest
import Foundation
import GrusCore
@testable import GrusText

final class NormalizerTests: XCTestCase {
    func testUnicodeEdgeCases() {
        let n = Normalizer()
        XCTAssertEqual(n("Cafe\u{301}"), "café", "combining mark composed (NFC part of NFKC)")
        XCTAssertEqual(n("ＡＢＣ１２３"), "abc123", "full-width forms")
        XCTAssertEqual(n("Straße"), "strasse", "full case folding")
        XCTAssertEqual(n("zero\u{200B}width\u{FEFF}"), "zerowidth", "invisible characters removed")
        XCTAssertEqual(n("  a \t\u{00A0} b\r\n"), "a b", "white space collapsed, NBSP included")
        XCTAssertEqual(n("👩‍👩‍👧"), "👩‍👩‍👧", "ZWJ emoji sequence kept")
        XCTAssertEqual(n("שלום עולם"), "שלום עולם", "right-to-left text untouched")
        var nfc = NormalizerOptions(); nfc.unicode = .nfc; nfc.caseFold = false
        XCTAssertEqual(Normalizer(nfc)("ＡＢ e\u{301}"), "ＡＢ é", "NFC keeps full-width forms")
        XCTAssertEqual(n(""), "")
    }

    func testASCIIFastPathAgreesWithTheGeneralPath() {
        var rng = RNG(seed: 1)
        let alphabet = Array("aZ 09\t\r\n.,'!?-_()[]{}\u{0B}\u{0C}xyQ")
        for options in [NormalizerOptions(), { var o = NormalizerOptions(); o.caseFold = false; o.collapseWhitespace = false; return o }()] {
            let n = Normalizer(options)
            for _ in 0..<500 {
                let s = String((0..<rng.int(below: 30)).map { _ in alphabet[rng.int(below: alphabet.count)] })
                XCTAssertEqual(n.ascii(s), n.general(s), "\(s.debugDescription)")
            }
        }
    }
}

final class TokenizerTests: XCTestCase {
    func testWordTokenizerSplitsPunctuationAndSymbols() {
        let t = WordTokenizer()
        XCTAssertEqual(t.tokenize("it's great, isn't it?!"), ["it", "'", "s", "great", ",", "isn", "'", "t", "it", "?", "!"])
        XCTAssertEqual(t.tokenize("I ❤️ NY"), ["I", "❤️", "NY"])
        XCTAssertEqual(t.tokenize("مرحبا بالعالم"), ["مرحبا", "بالعالم"])
        XCTAssertEqual(WordTokenizer(splitPunctuation: false).tokenize("a, b"), ["a,", "b"])
        XCTAssertEqual(WordTokenizer(pattern: "[a-z]+").tokenize("ab1cd"), ["ab", "cd"])
        XCTAssertEqual(t.tokenize(""), [])
    }

    func testCharacterTokenizerUsesGraphemeClusters() {
        let t = CharacterTokenizer()
        XCTAssertEqual(t.tokenize("e\u{301}👩‍👩‍👧 x"), ["e\u{301}", "👩‍👩‍👧", "▁", "x"])
        XCTAssertEqual(CharacterTokenizer(keepSpaces: false).tokenize("a  b"), ["a", "b"])
    }

    func testBPELearnsTheClassicExampleDeterministically() {
        // Sennrich et al.'s toy corpus: low ×5, lower ×2, newest ×6, widest ×3. Worked by hand:
        // 11 start symbols; (e,s) and (s,t</w>) tie at 9 → "e" first; then (es,t</w>) 9, (l,o) 7;
        // then (e,w), (n,e), (w,est</w>) tie at 6 → (e,w); then (ew,est</w>) and (n,ew) tie → "ew".
        let counts = ["low": 5, "lower": 2, "newest": 6, "widest": 3]
        let bpe = BPE.train(wordCounts: counts, vocabularySize: 16, minFrequency: 2)
        XCTAssertEqual(bpe.merges, [["e", "s"], ["es", "t</w>"], ["l", "o"], ["e", "w"], ["ew", "est</w>"]])
        XCTAssertEqual(bpe.encodeWord("lowest"), ["lo", "w", "est</w>"])
        XCTAssertEqual(bpe.encodeWord("newest"), ["n", "ewest</w>"])
        XCTAssertEqual(BPE.train(wordCounts: counts, vocabularySize: 16, minFrequency: 2), bpe, "same input, same merges")
        // Ties: "ab" and "cd" both occur 3 times; "a","b" sorts first.
        let tie = BPE.train(wordCounts: ["cd": 3, "ab": 3], vocabularySize: 100, minFrequency: 1)
        XCTAssertEqual(tie.merges.first, ["a", "b</w>"])
        // minFrequency stops merging.
        XCTAssertEqual(BPE.train(wordCounts: ["xy": 1], vocabularySize: 100, minFrequency: 2).merges, [])
    }

    func testBPEHandlesUnknownCharacters() {
        let bpe = BPE.train(wordCounts: ["aaa": 10], vocabularySize: 10, minFrequency: 1)
        XCTAssertEqual(bpe.encodeWord("aqa"), ["a", "q", "a</w>"])
    }
}

final class VocabularyTests: XCTestCase {
    func testOrderSpecialsLimitsAndUnknowns() {
        let v = Vocabulary.build(counts: ["b": 3, "a": 3, "c": 5, "rare": 1], minCount: 2, bos: true, eos: true)
        XCTAssertEqual(v.tokens, ["<pad>", "<unk>", "<bos>", "<eos>", "c", "a", "b"])
        XCTAssertEqual(Vocabulary.build(counts: ["b": 3, "a": 3, "c": 5], maxSize: 4).tokens, ["<pad>", "<unk>", "c", "a"])
        var unknown = 0
        XCTAssertEqual(v.encode(["c", "zzz", "a", "rare"], unknown: &unknown), [4, 1, 5, 1])
        XCTAssertEqual(unknown, 2)
    }
}

final class TextEncoderTests: XCTestCase {
    let corpus = ["The film is great!", "the film was not good.", "A great, great cast.", "Not good at all…", "ＧＲＥＡＴ ｆｉｌｍ"]

    func roundTrip(_ kind: TextEncoder.Settings.Kind) throws {
        var s = TextEncoder.Settings()
        s.kind = kind
        s.bpeVocabularySize = 40
        s.bpeMinFrequency = 1
        let enc = TextEncoder.fit(corpus, settings: s)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("grus-tok-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try enc.save(to: url)
        let back = try TextEncoder.load(url)
        XCTAssertEqual(back, enc)
        for t in corpus + ["unseen words here", "émoji 👍 and ✨"] { XCTAssertEqual(back.encode(t), enc.encode(t), "\(kind): \(t)") }
    }

    func testSaveLoadReproducesIds() throws {
        try roundTrip(.word)
        try roundTrip(.character)
        try roundTrip(.bpe)
    }

    func testTruncationAndSpecials() {
        var s = TextEncoder.Settings()
        s.maxLength = 4
        s.addBOS = true
        s.addEOS = true
        let enc = TextEncoder.fit(["a b c d e f"], settings: s)
        let ids = enc.encode("a b c d e f")
        XCTAssertEqual(ids.count, 4)
        XCTAssertEqual(ids.first, enc.vocabulary.bosID)
        XCTAssertEqual(ids.last, enc.vocabulary.eosID)
        XCTAssertEqual(Array(ids[1...2]), [enc.vocabulary.id("a")!, enc.vocabulary.id("b")!])
        var tail = enc
        tail.truncation = .keepEnd
        XCTAssertEqual(Array(tail.encode("a b c d e f")[1...2]), [enc.vocabulary.id("e")!, enc.vocabulary.id("f")!])
        var u = 0
        _ = enc.encode("a zz b qq", unknown: &u)
        XCTAssertEqual(u, 2)
    }

    func testNormalisationMakesFullWidthMatch() {
        let enc = TextEncoder.fit(corpus, settings: TextEncoder.Settings())
        XCTAssertEqual(enc.encode("great film"), enc.encode("ＧＲＥＡＴ ｆｉｌｍ"))
    }

    func testCorruptTokenizerFileIsAClearError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("grus-bad-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("{\"vocabulary\": 3}".utf8).write(to: url)
        XCTAssertThrowsError(try TextEncoder.load(url)) { XCTAssertTrue("\($0)".contains(url.path), "\($0)") }
    }
}

final class TextFileTests: XCTestCase {
    func write(_ bytes: [UInt8]) -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("grus-text-\(UUID().uuidString).txt").path
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: p) }
        return p
    }

    func testLineEndingsEmptyLinesAndNoFinalNewline() throws {
        let p = write(Array("one\r\ntwo\n\nthree".utf8))
        let (lines, _) = try TextFile.lines(p)
        XCTAssertEqual(lines.map(\.text), ["one", "two", "", "three"])
        XCTAssertEqual(lines.map(\.number), [1, 2, 3, 4])
    }

    func testInvalidUTF8NamesFileAndLine() throws {
        let p = write(Array("fine\n".utf8) + [0x66, 0xFF, 0xFE, 0x0A] + Array("also fine\n".utf8))
        XCTAssertThrowsError(try TextFile.lines(p)) { e in
            XCTAssertEqual(e as? TextError, .invalidUTF8(path: p, line: 2))
            XCTAssertTrue("\(e)".hasPrefix("\(p):2:"))
        }
        let replaced = try TextFile.lines(p, invalidUTF8: .replace)
        XCTAssertEqual(replaced.lines[1].text, "f\u{FFFD}\u{FFFD}")
        let skipped = try TextFile.lines(p, invalidUTF8: .skip)
        XCTAssertEqual(skipped.lines.map(\.text), ["fine", "also fine"])
        XCTAssertEqual(skipped.skipped, [2])
    }

    func testAOneMegabyteLine() throws {
        let long = String(repeating: "word ", count: 200_000)
        let p = write(Array(long.utf8))
        let (lines, _) = try TextFile.lines(p)
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines[0].text.utf8.count, 1_000_000)
        let enc = TextEncoder.fit(["word"], settings: TextEncoder.Settings())
        XCTAssertEqual(enc.encode(lines[0].text).count, 200_000)
    }
}

final class PretrainedVectorsTests: XCTestCase {
    func file(_ text: String) -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("grus-vec-\(UUID().uuidString).txt").path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: p) }
        return p
    }

    func testGloVeAndWord2VecFormatsAndCoverage() throws {
        let glove = try PretrainedVectors.load(file("good 0.1 0.2 0.3\nfilm -1 0 1\n"))
        XCTAssertEqual(glove.dimension, 3)
        let w2v = try PretrainedVectors.load(file("2 3\ngood 0.1 0.2 0.3\nfilm -1 0 1\n"))
        XCTAssertEqual(w2v.vectors, glove.vectors)
        let vocab = Vocabulary.build(counts: ["good": 3, "film": 2, "unseen": 1])
        let (rows, found) = glove.matrix(for: vocab) { _ in [9, 9, 9] }
        XCTAssertEqual(found, 2)
        XCTAssertEqual(rows[vocab.id("good")!], [0.1, 0.2, 0.3])
        XCTAssertEqual(rows[vocab.id("unseen")!], [9, 9, 9])
        XCTAssertEqual(rows[vocab.padID], [0, 0, 0])
    }

    func testMalformedLineNamesItsNumber() {
        XCTAssertThrowsError(try PretrainedVectors.load(file("a 1 2\nb 1\n"))) { XCTAssertTrue("\($0)".contains(":2:"), "\($0)") }
        XCTAssertThrowsError(try PretrainedVectors.load(file("a 1 2\nb 1 x\n"))) { XCTAssertTrue("\($0)".contains(":2:") && "\($0)".contains("'x'"), "\($0)") }
    }
}
