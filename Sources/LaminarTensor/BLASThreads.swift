import CBLAS

/// Thread control of the BLAS library.
///
/// After ``set(_:)``, OpenBLAS idles at one thread: products too small to gain from more run on
/// the calling thread, and only products of at least ``singleThreadFlops`` raise the count for
/// their duration. Keeping OpenBLAS at one thread between products matters: every change of
/// its thread count wakes its worker threads, which then spin (`sched_yield`) for a while on the
/// other cores — cores that ``RowParallel`` wants for its own blocks of rows.
public enum BLASThreads {
    /// The configured thread count (``set(_:)``), or OpenBLAS's own count when never set.
    public static var count: Int {
        configured > 0 ? configured : Int(openblas_get_num_threads())
    }

    /// Sets the number of threads (`--threads N` on the command line): OpenBLAS threads for
    /// large products and ``RowParallel`` blocks for row-independent work.
    public static func set(_ n: Int) {
        BLASKernels.ensureBestKernels()
        configured = Swift.max(1, n)
        openblas_set_num_threads(1)
    }

    /// Products below this many flops run on one thread even when more are configured: on the
    /// CNF's 512×64·64×64 products OpenBLAS's two-thread split costs more in synchronisation
    /// than it saves (measured: a toy FFJORD iteration took 43 ms with two threads against
    /// 37 ms with one), while 512³ products still gain ~2× from the second core.
    public static let singleThreadFlops = 1 << 25

    /// The thread count set by ``set(_:)``; −1 until then (OpenBLAS manages its own threads).
    nonisolated(unsafe) static var configured = -1

    /// Set while ``withOneThreadPerProduct(_:)`` runs: every product stays on its calling thread.
    nonisolated(unsafe) static var pinned = false

    /// The thread count set by ``set(_:)``; 1 until it is called (OpenBLAS's own default does
    /// not turn on row parallelism).
    public static var configuredCount: Int { Swift.max(1, configured) }

    /// The number of threads OpenBLAS would use for a product right now (settable for tests).
    static var openBLASThreads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// Runs `body` with every BLAS product on its calling thread: for callers that parallelise
    /// over independent work themselves (``RowParallel``).
    static func withOneThreadPerProduct(_ body: () -> Void) {
        BLASKernels.ensureBestKernels()
        let previous = openblas_get_num_threads()
        if previous != 1 { openblas_set_num_threads(1) }
        pinned = true
        body()
        pinned = false
        if previous != 1 { openblas_set_num_threads(previous) }
    }

    /// Runs `product` (a BLAS call of `flops` floating-point operations) with every configured
    /// thread when it is large enough to gain from them, on the calling thread otherwise.
    @inline(__always)
    static func run(flops: Int, _ product: () -> Void) {
        guard configured > 1, !pinned, flops >= singleThreadFlops else {
            product()
            return
        }
        openblas_set_num_threads(Int32(configured))
        product()
        openblas_set_num_threads(1)
    }
}
