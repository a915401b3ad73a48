import ArgumentParser
import Laminar

/// `--threads` and `--seed`: how a command runs, shared by every subcommand and validated once.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Threads for BLAS products and row-parallel work (1…256).")
    var threads: Int = 1

    @Option(help: "Random seed (default 0; evaluate's fresh toy test samples: 12345).")
    var seed: UInt64?

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1…256, got \(threads)") }
    }

    /// The given seed, or the command's default.
    func seed(default value: UInt64) -> UInt64 { seed ?? value }

    /// Applies `--threads` (and checks the BLAS kernels once).
    func apply() { BLASThreads.set(threads) }
}
