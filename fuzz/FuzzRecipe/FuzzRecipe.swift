// libFuzzer target: any bytes as a recipe file (and as a --set override) give a RecipeError, never a crash.
import Foundation
import FuzzSupport
import GrusRecipes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecipe(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let path = NSTemporaryDirectory() + "grus-fuzz-recipe-\(getpid()).yaml"
    FileManager.default.createFile(atPath: path, contents: bytes)
    _ = try? RecipeLoader.load(path, fileExists: { _ in true })
    if let text = String(data: bytes, encoding: .utf8), text.count < 200 {
        _ = try? RecipeLoader.load(path, overrides: [text], fileExists: { _ in true })
    }
    return 0
}

@_cdecl("FuzzRecipe_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRecipe)
}
