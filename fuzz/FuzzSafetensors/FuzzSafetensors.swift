// libFuzzer target: the safetensors reader must reject any input with an error, never crash.
import Foundation
import GrusCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? Safetensors.decode(Data(bytes: data, count: size), path: "fuzz")
    return 0
}

// SwiftPM links executables with their module's entry point (FuzzSafetensors_main) as `main`;
// it hands control to libFuzzer's driver with the target above.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzSafetensors_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var args = argv
    return runFuzzerDriver(&count, &args, fuzzSafetensors)
}
