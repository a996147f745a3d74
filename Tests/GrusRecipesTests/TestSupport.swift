import Foundation
import XCTest

/// The `grus` executable built beside the test bundle (`swift build --build-tests` builds it).
func grusExecutable(file: StaticString = #filePath, line: UInt = #line) -> String? {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [here, here.deletingLastPathComponent()] {
        let p = candidate.appendingPathComponent("grus").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    XCTFail("the grus executable was not found next to \(here.path); build it with `swift build --build-tests`", file: file, line: line)
    return nil
}

/// Runs a program to completion, returning its exit status and standard error.
func runProgram(_ exe: String, _ args: [String], environment: [String: String] = [:]) throws -> (process: Process, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let err = Pipe()
    p.standardOutput = FileHandle.nullDevice
    p.standardError = err
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p, String(decoding: data, as: UTF8.self))
}
