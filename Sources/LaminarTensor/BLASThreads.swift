import CBLAS

/// Thread control of the BLAS library.
public enum BLASThreads {
    /// Number of threads OpenBLAS uses for one matrix product.
    public static var count: Int {
        Int(openblas_get_num_threads())
    }

    /// Sets the number of threads OpenBLAS uses (`--threads N` on the command line).
    public static func set(_ n: Int) {
        BLASKernels.ensureBestKernels()
        configured = Swift.max(1, n)
        requested = configured
        openblas_set_num_threads(Int32(configured))
    }

    /// Products below this many flops run on one thread even when more are configured: on the
    /// CNF's 512×64·64×64 products OpenBLAS's two-thread split costs more in synchronisation
    /// than it saves (measured: a toy FFJORD iteration took 43 ms with two threads against
    /// 37 ms with one), while 512³ products still gain ~2× from the second core.
    public static let singleThreadFlops = 1 << 25

    /// The thread count set by ``set(_:)`` (or OpenBLAS's own default until then).
    nonisolated(unsafe) static var configured = -1

    /// Set while ``withOneThreadPerProduct(_:)`` runs: OpenBLAS is held at one thread and
    /// ``run(flops:_:)`` leaves the setting alone (it is shared by the calling threads).
    nonisolated(unsafe) static var pinned = false

    /// The thread count set by ``set(_:)``; 1 until it is called (OpenBLAS's own default does
    /// not turn on row parallelism).
    public static var configuredCount: Int { requested }
    nonisolated(unsafe) static var requested = 1

    /// Runs `body` with every BLAS product on one thread: for callers that parallelise over
    /// independent work themselves (``RowParallel``).
    static func withOneThreadPerProduct(_ body: () -> Void) {
        BLASKernels.ensureBestKernels()
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(1)
        pinned = true
        body()
        pinned = false
        openblas_set_num_threads(previous)
    }

    /// Runs `product` (a BLAS call of `flops` floating-point operations) on one thread when it
    /// is too small to gain from more.
    @inline(__always)
    static func run(flops: Int, _ product: () -> Void) {
        if configured < 0 { configured = Int(openblas_get_num_threads()) }
        guard configured > 1, !pinned, flops < singleThreadFlops else {
            product()
            return
        }
        openblas_set_num_threads(1)
        product()
        openblas_set_num_threads(Int32(configured))
    }
}
