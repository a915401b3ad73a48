import Foundation

/// Entropy-regularised optimal transport between two uniform empirical measures of n points
/// (Cuturi 2013), solved by Sinkhorn iterations in the log domain so that small
/// regularisations do not underflow.
///
/// The cost is divided by its largest entry first (torchcfm's `normalize_cost`), so
/// `regularization` is relative to the batch's largest squared distance and means the same on
/// 2-D toys and on images: 0.05 is a mildly blurred plan, 1 is close to the independent coupling.
public enum Sinkhorn {
    /// The transport plan (row-major n × n, rows summing to 1/n and columns to 1/n up to the
    /// tolerance) for `cost` (row-major n × n).
    /// - Complexity: O(n²) per iteration, at most `maxIterations` iterations.
    public static func plan(
        cost: [Double], n: Int, regularization: Double, tolerance: Double = 1e-6, maxIterations: Int = 2_000
    ) -> [Double] {
        precondition(cost.count == n * n && regularization > 0, "Sinkhorn: bad arguments")
        guard n > 0 else { return [] }
        let scale = Swift.max(cost.max() ?? 0, .leastNormalMagnitude)
        let m = cost.map { $0 / scale / regularization }  // M / ε
        let logMarginal = -log(Double(n))
        var f = [Double](repeating: 0, count: n)  // dual potentials / ε
        var g = [Double](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: n)
        func logSumExp(_ values: UnsafeBufferPointer<Double>) -> Double {
            var top = -Double.infinity
            for x in values where x > top { top = x }
            guard top.isFinite else { return top }
            var s = 0.0
            for x in values { s += exp(x - top) }
            return top + log(s)
        }
        for iteration in 0..<maxIterations {
            for i in 0..<n {
                for j in 0..<n { row[j] = g[j] - m[i * n + j] }
                f[i] = logMarginal - row.withUnsafeBufferPointer(logSumExp)
            }
            for j in 0..<n {
                for i in 0..<n { row[i] = f[i] - m[i * n + j] }
                g[j] = logMarginal - row.withUnsafeBufferPointer(logSumExp)
            }
            // After the g update the columns are exact; check the rows every 10 sweeps.
            if iteration % 10 == 9 || iteration == maxIterations - 1 {
                var error = 0.0
                for i in 0..<n {
                    for j in 0..<n { row[j] = f[i] + g[j] - m[i * n + j] }
                    error += Swift.abs(exp(row.withUnsafeBufferPointer(logSumExp)) - 1 / Double(n))
                }
                if error < tolerance { break }
            }
        }
        var plan = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n { plan[i * n + j] = exp(f[i] + g[j] - m[i * n + j]) }
        }
        return plan
    }
}
