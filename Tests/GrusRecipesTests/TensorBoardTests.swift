import Foundation
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// TensorBoard event files: CRC-32C, and records equal to those TensorBoard's own writer makes
/// for the same train-log.csv (Fixtures/tensorboard/make_tensorboard_fixture.py, which also reads
/// them back with TensorBoard's event reader).
final class TensorBoardTests: FolderTestCase {
    func fixture(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/tensorboard/" + name, withExtension: nil))
    }

    func testCRC32CKnownValues() {
        XCTAssertEqual(CRC32C.checksum(Data("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum(Data(count: 32)), 0x8A91_36AA)
    }

    func testEventsEqualTensorBoardsOwnWriter() throws {
        let csv = try String(contentsOf: fixture("train-log.csv"), encoding: .utf8)
        let ours = try TensorBoard.records(TensorBoard.events(fromLog: csv, start: 1.7e9))
        let theirs = try Data(contentsOf: fixture("run/events.out.tfevents.fixture"))
        XCTAssertEqual(ours.count, theirs.count)
        XCTAssertEqual(ours, theirs)
    }

    /// A run writes tb/ as it trains; its records check and hold train-log.csv's values.
    func testARunWritesScalarsOfItsLog() throws {
        let corpus = dir.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        let lines = (0..<80).map { i in i % 2 == 0 ? "__label__a fine good day \(i % 7)" : "__label__b bad awful day \(i % 5)" }
        for f in ["train.txt", "test.txt"] { try lines.joined(separator: "\n").write(to: corpus.appendingPathComponent(f), atomically: true, encoding: .utf8) }
        let recipe = dir.appendingPathComponent("r.yaml").path
        FileManager.default.createFile(atPath: recipe, contents: Data("""
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: '', test: test.txt, dev_fraction: 0.2}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 3, batch_size: 8, log_every: 1000}
        """.utf8))
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run()
        let data = try Data(contentsOf: out.appendingPathComponent("tb/" + TensorBoard.fileName))
        var events: [Tensorboard_Event] = []
        var at = 0
        func le<T: FixedWidthInteger>(_ n: Int) -> T { data[(at)..<(at + n)].enumerated().reduce(T(0)) { $0 | T($1.element) << (8 * $1.offset) } }
        while at < data.count {
            let length = Int(le(8) as UInt64)
            let header = data[at..<(at + 8)]
            at += 8
            XCTAssertEqual(le(4) as UInt32, CRC32C.masked(Data(header)))
            at += 4
            let payload = Data(data[at..<(at + length)])
            at += length
            XCTAssertEqual(le(4) as UInt32, CRC32C.masked(payload))
            at += 4
            events.append(try Tensorboard_Event(serializedBytes: payload))
        }
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        let csv = try String(contentsOf: out.appendingPathComponent("train-log.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(events.count, csv.count)
        let lossCol = csv[0].firstIndex(of: "loss")!, accCol = csv[0].firstIndex(of: "dev_accuracy")!
        for (e, row) in zip(events.dropFirst(), csv.dropFirst()) {
            XCTAssertEqual(e.step, Int64(row[1]))
            let values = Dictionary(uniqueKeysWithValues: e.summary.value.map { ($0.tag, $0.simpleValue) })
            XCTAssertEqual(values["train/loss"], Float(row[lossCol]))
            XCTAssertEqual(values["dev/accuracy"], Float(row[accCol]))
            XCTAssertNotNil(values["train/lr"])
            XCTAssertNotNil(values["train/sequences_per_second"])
        }
    }
}
