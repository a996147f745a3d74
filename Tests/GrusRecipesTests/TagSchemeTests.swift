@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

final class TagSchemeTests: XCTestCase {
    let iob2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "I-ORG"]

    func testConversionsKeepTheChunks() {
        XCTAssertEqual(TagScheme.iobes.convert(iob2), ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG"])
        XCTAssertEqual(TagScheme.iob1.convert(iob2), ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "O", "I-ORG", "I-ORG", "I-ORG"])
        for scheme in TagScheme.allCases {
            let converted = scheme.convert(iob2)
            XCTAssertEqual(SpanMetrics.chunks(converted), SpanMetrics.chunks(iob2), "\(scheme)")
            XCTAssertEqual(TagScheme.iob2.convert(converted), iob2, "\(scheme) back to IOB2")
            // Every transition of a converted sequence is allowed in its scheme.
            for (a, b) in zip([nil] + converted.map { Optional($0) }, converted.map { Optional($0) } + [nil]) {
                XCTAssertTrue(scheme.allows(a, b), "\(scheme): \(a ?? "start") → \(b ?? "end")")
            }
        }
        // Ill-formed input is read as conlleval reads it: I-X after O starts a chunk.
        XCTAssertEqual(TagScheme.iob2.convert(["O", "I-LOC", "I-LOC"]), ["O", "B-LOC", "I-LOC"])
    }

    func testForbiddenTransitions() {
        XCTAssertFalse(TagScheme.iob2.allows("O", "I-PER"))
        XCTAssertFalse(TagScheme.iob2.allows("B-PER", "I-LOC"))
        XCTAssertFalse(TagScheme.iob2.allows(nil, "I-PER"))
        XCTAssertTrue(TagScheme.iob2.allows("B-PER", "I-PER"))
        XCTAssertFalse(TagScheme.iobes.allows("B-PER", "O"))
        XCTAssertFalse(TagScheme.iobes.allows("B-PER", nil), "a chunk must end with E-")
        XCTAssertFalse(TagScheme.iobes.allows("O", "E-PER"))
        XCTAssertTrue(TagScheme.iobes.allows("S-PER", "B-LOC"))
        XCTAssertFalse(TagScheme.iob1.allows("O", "B-PER"))
        XCTAssertTrue(TagScheme.iob1.allows("I-PER", "B-PER"))
    }

    func testDetect() {
        XCTAssertEqual(TagScheme.detect([["B-A", "I-A", "O", "B-B"]]), .iob2)
        XCTAssertEqual(TagScheme.detect([["I-A", "I-A", "B-A", "O", "I-B"]]), .iob1)
        XCTAssertEqual(TagScheme.detect([["B-A", "E-A", "O", "S-B"]]), .iobes)
        XCTAssertNil(TagScheme.detect([["NOUN", "VERB"], ["O"]]))
        XCTAssertTrue(TagScheme.isSpanTag("O") && TagScheme.isSpanTag("S-LOC") && !TagScheme.isSpanTag("NOUN") && !TagScheme.isSpanTag("-LRB-") && !TagScheme.isSpanTag("B-"))
    }
}
