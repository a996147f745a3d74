import Foundation

/// Data-parallel training across processes through Open MPI. The plain `grus` binary does not
/// link MPI: under `mpirun` (which sets OMPI_COMM_WORLD_SIZE) `start()` loads Open MPI's
/// libmpi.so.40 at run time and calls MPI_Init; run alone, nothing is loaded and size is 1.
///
/// Handles are Open MPI's: MPI_COMM_WORLD, MPI_FLOAT, ... are the addresses of its predefined
/// objects (`ompi_mpi_comm_world`, ...), and MPI_IN_PLACE is (void *) 1, as its mpi.h defines them.
public enum Distributed {
    nonisolated(unsafe) public private(set) static var rank = 0
    nonisolated(unsafe) public private(set) static var size = 1
    /// Ranks on this machine (OMPI_COMM_WORLD_LOCAL_SIZE), for the default thread count.
    nonisolated(unsafe) public private(set) static var localSize = 1
    nonisolated(unsafe) static var mpi: OpenMPI?

    /// Whether this process writes the experiment folder (rank 0, or the only process).
    public static var isWriter: Bool { rank == 0 }
    public static var active: Bool { size > 1 }

    /// Was this process started by mpirun with more than one rank?
    public static var launched: Bool {
        (ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init) ?? 1) > 1
    }

    /// Joins the MPI job when launched by mpirun; otherwise does nothing.
    public static func start() throws {
        guard launched, mpi == nil else { return }
        let api = try OpenMPI.load()
        var argc: Int32 = 0
        guard api.initialize(&argc, nil) == 0 else { throw GrusError.io(path: OpenMPI.library, message: "MPI_Init failed") }
        var r: Int32 = 0, s: Int32 = 0
        _ = api.commRank(api.commWorld, &r)
        _ = api.commSize(api.commWorld, &s)
        (rank, size, mpi) = (Int(r), Int(s), api)
        localSize = max(1, ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1)
    }

    /// Ends the MPI job normally (every rank calls it).
    public static func finish() {
        guard let mpi else { return }
        _ = mpi.finalize()
        Distributed.mpi = nil
    }

    /// Ends every rank of the job: a rank that fails alone would leave the others waiting in a
    /// collective for ever. The message goes to standard error first.
    /// `code` is the job's exit status (mpirun passes MPI_Abort's code on): 2 for a recipe error.
    public static func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("grus rank \(rank) of \(size): \(message)\n".utf8))
        if let mpi { _ = mpi.abort(mpi.commWorld, code) }
        exit(code)
    }

    nonisolated(unsafe) static var terminationNote: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var terminationNoteWithout: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var terminationCheckpoint: UnsafeMutablePointer<CChar>?

    /// What a rank prints when mpirun ends it (SIGTERM) because another rank failed or was
    /// killed: `message` (where the last checkpoint is, how to resume) when `checkpoint` exists
    /// by then, else `withoutCheckpoint` (nothing to resume from: say so, not --resume).
    public static func onTermination(_ message: String, checkpoint: String, withoutCheckpoint: String) {
        guard active else { return }
        for p in [terminationNote, terminationNoteWithout, terminationCheckpoint] { if let p { free(p) } }
        terminationNote = strdup("grus rank \(rank) of \(size): \(message)\n")
        terminationNoteWithout = strdup("grus rank \(rank) of \(size): \(withoutCheckpoint)\n")
        terminationCheckpoint = strdup(checkpoint)
        signal(SIGTERM) { _ in
            // access() and write() are safe in a signal handler.
            let exists = Distributed.terminationCheckpoint.map { access($0, F_OK) == 0 } ?? false
            if let note = exists ? Distributed.terminationNote : Distributed.terminationNoteWithout { _ = write(2, note, strlen(note)) }
            _exit(143)
        }
    }

    /// Sums `buffer` element-wise over all ranks, in place (MPI_Allreduce with MPI_SUM).
    public static func allreduceSum(_ buffer: inout [Float]) {
        guard let mpi, size > 1 else { return }
        let n = Int32(buffer.count)
        let rc = buffer.withUnsafeMutableBytes { p in
            mpi.allreduce(UnsafeRawPointer(bitPattern: 1), p.baseAddress, n, mpi.float, mpi.sum, mpi.commWorld)
        }
        if rc != 0 { abort("MPI_Allreduce failed (error \(rc))") }
    }

    /// Every rank's `bytes`, in rank order (MPI_Allgather of the sizes, then MPI_Allgatherv).
    public static func allgather(_ bytes: [UInt8]) -> [[UInt8]] {
        guard let mpi, size > 1 else { return [bytes] }
        var mine = Int32(bytes.count)
        var counts = [Int32](repeating: 0, count: size)
        var rc = counts.withUnsafeMutableBytes { c in mpi.allgather(&mine, 1, mpi.int32, c.baseAddress, 1, mpi.int32, mpi.commWorld) }
        if rc != 0 { abort("MPI_Allgather failed (error \(rc))") }
        var displacements = [Int32](repeating: 0, count: size)
        for k in 1..<size { displacements[k] = displacements[k - 1] + counts[k - 1] }
        var all = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        rc = bytes.withUnsafeBytes { s in
            all.withUnsafeMutableBytes { a in
                mpi.allgatherv(s.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, mine, mpi.byte, a.baseAddress, counts, displacements, mpi.byte, mpi.commWorld)
            }
        }
        if rc != 0 { abort("MPI_Allgatherv failed (error \(rc))") }
        return (0..<size).map { Array(all[Int(displacements[$0])..<Int(displacements[$0] + counts[$0])]) }
    }

    /// Runs `body` on rank 0 first and on the other ranks once it has finished: what it makes
    /// (a generated corpus, clips cut into the experiment folder) is made once and then found.
    public static func writerFirst<R>(_ body: () throws -> R) throws -> R {
        guard active else { return try body() }
        if isWriter { let r = try body(); barrier(); return r }
        barrier()
        return try body()
    }

    /// Waits until every rank gets here.
    public static func barrier() {
        guard let mpi, size > 1 else { return }
        _ = mpi.barrier(mpi.commWorld)
    }

    /// The part of 0..<count this rank takes: contiguous, near-equal shares in rank order.
    public static func share(of count: Int) -> Range<Int> {
        guard size > 1 else { return 0..<count }
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

/// The few MPI functions Grus calls, looked up in Open MPI's library.
struct OpenMPI {
    static let library = "libmpi.so.40"

    typealias Handle = UnsafeMutableRawPointer
    let initialize: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32
    let finalize: @convention(c) () -> Int32
    let abort: @convention(c) (Handle, Int32) -> Int32
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let barrier: @convention(c) (Handle) -> Int32
    let allreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    let allgather: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle) -> Int32
    let allgatherv: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>, Handle, Handle) -> Int32
    let commWorld: Handle, float: Handle, int32: Handle, byte: Handle, sum: Handle

    static func load() throws -> OpenMPI {
        // RTLD_GLOBAL: Open MPI's own plugins resolve their symbols against libmpi.
        guard let lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            throw GrusError.io(path: library, message: "grus was started by mpirun but Open MPI's library cannot be loaded (\(why)); install libopenmpi3 (Debian: apt-get install openmpi-bin libopenmpi-dev)")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(lib, name) else { throw GrusError.io(path: library, message: "has no \(name); grus needs Open MPI 4 or later") }
            return p
        }
        func function<F>(_ name: String, _: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: F.self) }
        return OpenMPI(
            initialize: try function("MPI_Init", (@convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32).self),
            finalize: try function("MPI_Finalize", (@convention(c) () -> Int32).self),
            abort: try function("MPI_Abort", (@convention(c) (Handle, Int32) -> Int32).self),
            commRank: try function("MPI_Comm_rank", (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self),
            commSize: try function("MPI_Comm_size", (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self),
            barrier: try function("MPI_Barrier", (@convention(c) (Handle) -> Int32).self),
            allreduce: try function("MPI_Allreduce", (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32).self),
            allgather: try function("MPI_Allgather", (@convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle) -> Int32).self),
            allgatherv: try function("MPI_Allgatherv", (@convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>, Handle, Handle) -> Int32).self),
            commWorld: try symbol("ompi_mpi_comm_world"), float: try symbol("ompi_mpi_float"), int32: try symbol("ompi_mpi_int"),
            byte: try symbol("ompi_mpi_byte"), sum: try symbol("ompi_mpi_op_sum"))
    }
}
