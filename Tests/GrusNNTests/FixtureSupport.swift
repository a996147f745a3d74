import Foundation
import XCTest
import GrusCore
@testable import GrusNN

/// Reads the JSON fixtures made by Fixtures/make_fixtures.py.
enum Fixture {
    static func load(_ name: String) throws -> [String: Any] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw GrusError.io(path: name + ".json", message: "fixture missing; run Tests/GrusNNTests/Fixtures/make_fixtures.py")
        }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static func tensor(_ any: Any?) -> Tensor {
        let d = any as! [String: Any]
        let shape = (d["shape"] as! [NSNumber]).map { $0.intValue }
        let data = (d["data"] as! [NSNumber]).map { $0.floatValue }
        return Tensor(shape: shape, data: data)
    }

    static func tensors(_ any: Any?) -> [String: Tensor] {
        (any as! [String: Any]).mapValues { tensor($0) }
    }
}

/// |a - b| <= atol + rtol·|b| elementwise, reporting the worst element.
func assertClose(_ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
    guard a.shape == b.shape else { return }
    var worst = 0, worstExcess: Float = -1
    for i in a.data.indices {
        let excess = abs(a.data[i] - b.data[i]) - (atol + rtol * abs(b.data[i]))
        if excess > worstExcess { worstExcess = excess; worst = i }
    }
    XCTAssertLessThanOrEqual(worstExcess, 0,
        "\(what): element \(worst) is \(a.data.isEmpty ? 0 : a.data[worst]), expected \(b.data.isEmpty ? 0 : b.data[worst])",
        file: file, line: line)
}
