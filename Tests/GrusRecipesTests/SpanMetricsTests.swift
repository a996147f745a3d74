import Foundation
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// Span metrics against seqeval (default mode, conlleval's rules), on committed fixtures.
final class SpanMetricsTests: XCTestCase {
    struct Case: Decodable {
        var gold: [[String]], pred: [[String]]
        var gold_chunks: [[[Item]]], pred_chunks: [[[Item]]]
        var per_type: [String: SpanMetrics.Scores]
        var precision: Double, recall: Double, f1: Double
    }
    /// A JSON value that is a string or a number (chunks are [type, first, last]).
    enum Item: Decodable {
        case s(String), i(Int)
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .i(i) } else { self = .s(try c.decode(String.self)) }
        }
    }

    func chunks(_ raw: [[Item]]) -> [SpanMetrics.Chunk] {
        raw.map { e in
            guard case let .s(t) = e[0], case let .i(a) = e[1], case let .i(b) = e[2] else { fatalError("bad fixture") }
            return SpanMetrics.Chunk(type: t, first: a, last: b)
        }
    }

    func testChunksAndScoresMatchSeqeval() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "spans", withExtension: "json", subdirectory: "Fixtures"))
        struct File: Decodable { var cases: [Case] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        XCTAssertEqual(cases.count, 60)
        for (k, c) in cases.enumerated() {
            for (s, tags) in c.gold.enumerated() {
                XCTAssertEqual(SpanMetrics.chunks(tags).sorted { $0.first < $1.first }, chunks(c.gold_chunks[s]).sorted { $0.first < $1.first }, "case \(k) gold \(s): \(tags)")
            }
            for (s, tags) in c.pred.enumerated() {
                XCTAssertEqual(SpanMetrics.chunks(tags).sorted { $0.first < $1.first }, chunks(c.pred_chunks[s]).sorted { $0.first < $1.first }, "case \(k) pred \(s): \(tags)")
            }
            let r = SpanMetrics.score(gold: c.gold, predicted: c.pred)
            XCTAssertEqual(r.micro.precision, c.precision, accuracy: 1e-12, "case \(k)")
            XCTAssertEqual(r.micro.recall, c.recall, accuracy: 1e-12, "case \(k)")
            XCTAssertEqual(r.micro.f1, c.f1, accuracy: 1e-12, "case \(k)")
            XCTAssertEqual(Set(r.perType.keys), Set(c.per_type.keys), "case \(k)")
            for (t, s) in c.per_type {
                XCTAssertEqual(r.perType[t]!.f1, s.f1, accuracy: 1e-12, "case \(k) \(t)")
                XCTAssertEqual(r.perType[t]!.precision, s.precision, accuracy: 1e-12, "case \(k) \(t)")
                XCTAssertEqual(r.perType[t]!.support, s.support, "case \(k) \(t)")
            }
        }
    }

    /// The rules on hand-made cases: an I-X after O starts a chunk; a type change ends one.
    func testIllFormedSequencesAsConllevalReadsThem() {
        XCTAssertEqual(SpanMetrics.chunks(["O", "I-PER", "I-PER", "O"]), [.init(type: "PER", first: 1, last: 2)])
        XCTAssertEqual(SpanMetrics.chunks(["B-PER", "I-LOC"]), [.init(type: "PER", first: 0, last: 0), .init(type: "LOC", first: 1, last: 1)])
        XCTAssertEqual(SpanMetrics.chunks(["S-ORG", "E-ORG"]), [.init(type: "ORG", first: 0, last: 0), .init(type: "ORG", first: 1, last: 1)])
        XCTAssertEqual(SpanMetrics.chunks([]), [])
        let r = SpanMetrics.score(gold: [["B-PER", "I-PER", "O"]], predicted: [["B-PER", "O", "O"]])
        XCTAssertEqual(r.micro.f1, 0)
        XCTAssertEqual(r.tokenAccuracy, 2.0 / 3.0, accuracy: 1e-12)
    }
}
