import Foundation
import XCTest

/// Flags whose values cannot mean anything are usage errors (exit 64), never a silent success.
final class UsageTests: FolderTestCase {
    func testCachePruneRefusesValuesThatMeanNothing() throws {
        guard let grus = grusExecutable() else { return }
        for (flag, value) in [("--older-than", "nan"), ("--older-than", "inf"), ("--older-than", "-1"), ("--max-mb", "nan"), ("--max-mb", "-5")] {
            let r = try runCapturing(grus, ["cache", "prune", "--dir", dir.path, flag, value])
            XCTAssertEqual(r.status, 64, "\(flag) \(value): \(r.stdout)\(r.stderr)")
            XCTAssertTrue(r.stderr.contains(flag), r.stderr)
        }
        XCTAssertEqual(try runCapturing(grus, ["cache", "prune", "--dir", dir.path, "--older-than", "1"]).status, 0)
    }
}
