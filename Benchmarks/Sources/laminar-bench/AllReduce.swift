import Foundation
import Laminar

// MARK: - allreduce: the gradient all-reduce alone, under mpirun

/// `mpirun -np N laminar-bench allreduce`: seconds of one in-place sum all-reduce of a Float
/// buffer through ``MPICommunicator``, for buffers of 4 B to 16 MiB (the gradient of a model
/// of 1 to 4 M parameters), median over repeats with a barrier before each; the latency and
/// bandwidth of the launch's transport (shared memory on one host). Alone (no mpirun) it
/// measures the single-process no-op.
func allReduceCase(_ s: BenchSettings) throws -> [Measurement] {
    let world = try Distributed.world()
    let exponents = s.smoke ? [0, 10] : Array(0...22)
    var out: [Measurement] = []
    for k in exponents {
        let n = 1 << k
        var buffer = [Float](repeating: 1, count: n)
        let repeats = s.smoke ? 3 : Swift.max(10, Swift.min(1_000, (1 << 24) / Swift.max(1, n)))
        var samples: [Double] = []
        try world.barrier()
        for _ in 0..<(repeats + 3) {
            try world.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            try world.allReduce(&buffer)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        out.append(Harness.summarize(
            "allreduce \(4 * n) B", Array(samples.dropFirst(3)),
            extra: ["bytes": Double(4 * n), "ranks": Double(world.size)]))
    }
    return out
}
