import Foundation
import XCTest

/// `grus toy`: a small bidirectional GRU classifier must learn a task that needs memory (which of
/// two markers came first in 20-40 noise symbols), and the same seed must give the same weights.
final class ToyCommandTests: FolderTestCase {
    func toy(_ args: [String]) throws -> (status: Int32, output: String)? {
        guard let exe = grusExecutable() else { return nil }
        let r = try runCapturing(exe, ["toy"] + args)
        return (r.status, r.stdout + r.stderr)
    }

    func testLearnsMarkerOrder() throws {
        guard let r = try toy(["--seed", "1", "--epochs", "6"]) else { return }
        XCTAssertEqual(r.status, 0, r.output)
        let last = try XCTUnwrap(r.output.split(separator: "\n").last(where: { $0.hasPrefix("marker-order:") }), r.output)
        let numbers = last.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        // "marker-order: A% test accuracy in S s (N steps; loss L, first F)"
        XCTAssertEqual(numbers.count, 5, String(last))
        XCTAssertGreaterThanOrEqual(numbers[0], 99, String(last))
        XCTAssertLessThan(numbers[3], numbers[4] / 10, "the loss must fall tenfold: \(last)")
    }

    /// Same seed, same thread count: bit-identical weights; another seed: others.
    func testTrainingIsReproducible() throws {
        var files: [Data] = []
        for (name, seed) in [("a", "3"), ("b", "3"), ("c", "4")] {
            let path = dir.appendingPathComponent("\(name).safetensors").path
            guard let r = try toy(["--seed", seed, "--epochs", "1", "--train-size", "256", "--save", path]) else { return }
            XCTAssertEqual(r.status, 0, r.output)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        XCTAssertEqual(files[0], files[1])
        XCTAssertNotEqual(files[0], files[2])
    }

    func testRefusesNoEpochs() throws {
        guard let r = try toy(["--epochs", "0"]) else { return }
        XCTAssertEqual(r.status, 64, "a usage error: \(r.output)")
    }
}
