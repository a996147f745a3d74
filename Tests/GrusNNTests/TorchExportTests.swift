import XCTest
import Foundation
import GrusCore
@testable import GrusNN

/// Writes a GRU's weights as safetensors (PyTorch names) with reference outputs. With
/// GRUS_EXPORT_DIR set, the files stay there for `make_fixtures.py --check-export`, which loads
/// them into torch.nn.GRU with load_state_dict(strict=True).
final class TorchExportTests: XCTestCase {
    func testExportRoundTripsAndIsTorchShaped() throws {
        let keep = ProcessInfo.processInfo.environment["GRUS_EXPORT_DIR"]
        let dir = URL(fileURLWithPath: keep ?? NSTemporaryDirectory() + "grus-export-\(UUID().uuidString)")
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
        let config = GRUConfig(inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true)
        var rng = RNG(seed: 21)
        let gru = GRUEncoder(config, rng: &rng)
        let lengths = [7, 3, 5]
        let x = Tensor(shape: [7, 3, 5], data: (0..<105).map { _ in rng.normal() })
        let (out, hN) = gru.forward(x, lengths: lengths, rng: &rng)
        try Safetensors.save(gru.stateDict(), metadata: ["format": "pt"], to: dir.appendingPathComponent("export.safetensors"))
        func j(_ t: Tensor) -> [String: Any] { ["shape": t.shape, "data": t.data.map(Double.init)] }
        let meta: [String: Any] = [
            "config": ["input": 5, "hidden": 6, "layers": 2, "bidirectional": true],
            "lengths": lengths, "x": j(x), "output": j(out), "h_n": j(hN),
        ]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: meta), to: dir.appendingPathComponent("export.json"))

        // Load back into a differently initialised GRU: same outputs.
        var other = RNG(seed: 99)
        let copy = GRUEncoder(config, rng: &other)
        let loaded = try Safetensors.load(dir.appendingPathComponent("export.safetensors"))
        XCTAssertEqual(Set(loaded.tensors.keys), Set([0, 1].flatMap { l in ["", "_reverse"].flatMap { s in
            ["weight_ih_l\(l)\(s)", "weight_hh_l\(l)\(s)", "bias_ih_l\(l)\(s)", "bias_hh_l\(l)\(s)"] } }))
        try copy.loadStateDict(loaded.tensors)
        let (out2, hN2) = copy.forward(x, lengths: lengths, rng: &other)
        XCTAssertEqual(out, out2)
        XCTAssertEqual(hN, hN2)

        // Strict loading names what is wrong.
        var bad = loaded.tensors
        bad["weight_hh_l1"] = Tensor(zeros: [3, 3])
        XCTAssertThrowsError(try copy.loadStateDict(bad)) { XCTAssertTrue("\($0)".contains("weight_hh_l1")) }
        bad = loaded.tensors
        bad["extra"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try copy.loadStateDict(bad)) { XCTAssertTrue("\($0)".contains("extra")) }
    }
}
