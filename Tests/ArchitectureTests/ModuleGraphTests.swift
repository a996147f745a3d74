import Foundation
import XCTest

/// The modules' arrows point one way. Every `import` in Sources/ and every target dependency in
/// Package.swift must be one the table below allows, and the inference library must not reach
/// Yams, Plot or SwiftProtobuf, even through another module.
final class ModuleGraphTests: XCTestCase {
    /// What each module may use, lowest first. A module never lists one below it in the table.
    static let allowed: KeyValuePairs<String, [String]> = [
        "GrusCore": ["CBLAS"],
        "GrusAudio": ["GrusCore", "CSndFile", "CFFTW"],
        "GrusText": ["GrusCore"],
        "GrusNN": ["GrusCore"],
        "GrusData": ["GrusCore", "GrusAudio", "GrusText"],
        "GrusTasks": ["GrusCore", "GrusNN", "GrusData"],
        "GrusInference": ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks"],
        "GrusTrain": ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusInference"],
        "GrusRecipes": ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusTrain", "Yams"],
        "GrusReports": ["GrusCore", "GrusData", "GrusTasks", "GrusTrain", "GrusRecipes", "Plot", "SwiftProtobuf"],
        "GrusExport": ["GrusCore", "GrusNN", "GrusAudio", "GrusTasks", "GrusInference", "SwiftProtobuf"],
        "GrusExperiment": ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusInference", "GrusTrain",
                           "GrusRecipes", "GrusReports"],
        "grus": ["GrusCore", "GrusNN", "GrusAudio", "GrusText", "GrusData", "GrusTasks", "GrusInference", "GrusTrain",
                 "GrusRecipes", "GrusReports", "GrusExport", "GrusExperiment", "ArgumentParser"],
        // The example of using Grus as a library: the inference library alone.
        "label-and-spot": ["GrusInference"],
    ]
    /// Modules of the platform, importable anywhere.
    static let platform: Set = ["Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch"]
    static let inferenceMayNotReach: Set = ["Yams", "Plot", "SwiftProtobuf"]

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// module → the modules its sources import.
    static func imports() throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        let sources = root.appendingPathComponent("Sources"), examples = root.appendingPathComponent("Examples")
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).map { sources.appendingPathComponent($0) }
            + ((try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []).map { examples.appendingPathComponent($0) }
        for dir in modules {
            let module = dir.lastPathComponent
            guard let files = FileManager.default.enumerator(atPath: dir.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ").map(String.init).filter { !$0.hasPrefix("@") }
                    guard words.count >= 2, words[0] == "import" else { continue }
                    out[module, default: []].insert(words[1])
                }
            }
        }
        return out
    }

    /// target → its dependencies, read from Package.swift's `.target(name: "X", dependencies: [...])`.
    static func packageDependencies() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var out: [String: Set<String>] = [:]
        let target = try NSRegularExpression(pattern: #"\.(?:executableTarget|target)\(name: "([^"]+)", dependencies: \[(.*?)\]\s*[,)]"#,
                                             options: [.dotMatchesLineSeparators])
        let quoted = try NSRegularExpression(pattern: #""([^"]+)""#)
        for m in target.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(m.range(at: 1), in: text)!])
            let deps = String(text[Range(m.range(at: 2), in: text)!])
            // Quoted names: modules, and a product's package ("Yams" is both; these two are packages only).
            out[name] = Set(quoted.matches(in: deps, range: NSRange(deps.startIndex..., in: deps)).map { String(deps[Range($0.range(at: 1), in: deps)!]) })
                .subtracting(["swift-protobuf", "swift-argument-parser"])
        }
        return out
    }

    func testImportsPointDown() throws {
        let allowed = Dictionary(uniqueKeysWithValues: Self.allowed.map { ($0.key, Set($0.value)) })
        let found = try Self.imports()
        XCTAssertFalse(found.isEmpty, "no sources found under \(Self.root.path)/Sources")
        for (module, used) in found.sorted(by: { $0.key < $1.key }) where !["CBLAS", "CFFTW", "CSndFile"].contains(module) {
            guard let ok = allowed[module] else { XCTFail("\(module): a module the table in ModuleGraphTests does not place"); continue }
            for m in used.subtracting(Self.platform).subtracting(ok).sorted() {
                XCTFail("\(module) imports \(m), which it may not (allowed: \(ok.sorted().joined(separator: ", ")))")
            }
        }
    }

    func testPackageDependenciesPointDown() throws {
        let allowed = Dictionary(uniqueKeysWithValues: Self.allowed.map { ($0.key, Set($0.value)) })
        let deps = try Self.packageDependencies()
        for module in allowed.keys { XCTAssertNotNil(deps[module], "Package.swift: no target \(module) found") }
        for (module, ok) in allowed {
            for m in (deps[module] ?? []).subtracting(ok).sorted() { XCTFail("Package.swift: \(module) depends on \(m), which it may not") }
        }
    }

    /// What the inference library reaches through every module it depends on.
    func testInferenceLibraryNeedsNoRecipeReportOrExportPackages() throws {
        let deps = try Self.packageDependencies(), imports = try Self.imports()
        var reached = Set<String>(), todo = ["GrusInference"]
        while let m = todo.popLast() {
            for d in (deps[m] ?? []).union(imports[m] ?? []) where reached.insert(d).inserted { todo.append(d) }
        }
        XCTAssertTrue(reached.contains("GrusTasks"), "the walk found \(reached.sorted())")
        XCTAssertEqual(reached.intersection(Self.inferenceMayNotReach), [], "GrusInference reaches these")
    }

    /// No hand-written source file over 400 lines; generated code lives in Generated/ folders.
    func testNoLongSourceFiles() throws {
        for folder in ["Sources", "Tests", "Examples", "bench/Sources"] {
            let dir = Self.root.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(atPath: dir.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") && !file.contains("Generated/") {
                let lines = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count
                XCTAssertLessThanOrEqual(lines, 401, "\(folder)/\(file) has \(lines) lines; split it (at most 400)")
            }
        }
    }
}
