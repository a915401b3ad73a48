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
        openblas_set_num_threads(Int32(Swift.max(1, n)))
    }
}
