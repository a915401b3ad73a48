import CBLAS
import Foundation
import Laminar

// MARK: - cnf-toy: the BLAS bound of one evaluation

/// One `C = op(A)·op(B)` of the fused CNF dynamics: C is m × n, the depth is k.
struct ProductShape {
    var m: Int, n: Int, k: Int
    var transposeA = false, transposeB = false
}

/// The matrix products of the fused MLP dynamics (`MLPVectorField+Fused.swift`) for widths
/// `d → h… → d`, a batch of `batch` rows and one Hutchinson probe: `forward` is one evaluation of
/// `[f, −εᵀ(∂f/∂z)ε]` (the layers, then the probe chain), `pullback` one evaluation of the
/// adjoint's right-hand side (the same, then the reverse of the probe chain and of the layers).
func fusedDynamicsProducts(widths: [Int], batch: Int) -> (forward: [ProductShape], pullback: [ProductShape]) {
    let layers = widths.count - 1
    var forward = [ProductShape]()
    // p_l = h_l Ŵ_lᵀ (+ β_l, folded in as the product's C).
    for l in 0..<layers { forward.append(ProductShape(m: batch, n: widths[l + 1], k: widths[l], transposeB: true)) }
    // g_l = q_l Ŵ_l, l = L−1 … 0.
    for l in stride(from: layers - 1, through: 0, by: -1) { forward.append(ProductShape(m: batch, n: widths[l], k: widths[l + 1])) }
    var pullback = forward
    // Reverse of the probe chain: Ŵ̄_l += q_lᵀ ḡ_l and, but for the last layer, q̄_l = ḡ_l Ŵ_lᵀ.
    for l in 0..<layers {
        pullback.append(ProductShape(m: widths[l + 1], n: widths[l], k: batch, transposeA: true))
        if l < layers - 1 { pullback.append(ProductShape(m: batch, n: widths[l + 1], k: widths[l], transposeB: true)) }
    }
    // Reverse of the layers: Ŵ̄_l += p̄_lᵀ h_l and h̄_l = p̄_l Ŵ_l.
    for l in stride(from: layers - 1, through: 0, by: -1) {
        pullback.append(ProductShape(m: widths[l + 1], n: widths[l], k: batch, transposeA: true))
        pullback.append(ProductShape(m: batch, n: widths[l], k: widths[l + 1]))
    }
    return (forward, pullback)
}

/// Seconds of raw `cblas_sgemm` for `products` (median over `repeats` runs of the whole list,
/// each product into its own output with β = 1, as the fused kernels accumulate).
func rawProductSeconds(_ products: [ProductShape], repeats: Int) -> Double {
    var rng = RandomGenerator(seed: 17)
    let operands = products.map { p -> ([Float], [Float], [Float]) in
        (Tensor<Float>.randomNormal([p.m * p.k], using: &rng).scalars,
         Tensor<Float>.randomNormal([p.k * p.n], using: &rng).scalars, [Float](repeating: 0, count: p.m * p.n))
    }
    var outputs = operands.map(\.2)
    let samples = Harness.time(repeats: repeats) {
        for (i, p) in products.enumerated() {
            operands[i].0.withUnsafeBufferPointer { a in
                operands[i].1.withUnsafeBufferPointer { b in
                    outputs[i].withUnsafeMutableBufferPointer { c in
                        cblas_sgemm(CblasRowMajor, p.transposeA ? CblasTrans : CblasNoTrans,
                                    p.transposeB ? CblasTrans : CblasNoTrans, Int32(p.m), Int32(p.n), Int32(p.k), 1,
                                    a.baseAddress, Int32(p.transposeA ? p.m : p.k), b.baseAddress,
                                    Int32(p.transposeB ? p.k : p.n), 1, c.baseAddress, Int32(p.n))
                    }
                }
            }
        }
    }
    return samples.sorted()[samples.count / 2]
}

/// The cnf-toy iteration against its BLAS bound: the raw sgemm time of the products of
/// `nfe` forward evaluations and `nfeBackward` pullbacks. Fields: `ms_per_nfe` (iteration
/// over all evaluations), `blas_bound_s` and `bound_ratio` (iteration over bound), and the
/// per-evaluation sgemm times.
func cnfToyBound(iteration: Double, nfe: Int, nfeBackward: Int, smoke: Bool) -> [String: Double] {
    let products = fusedDynamicsProducts(widths: [2, 64, 64, 64, 2], batch: 512)
    let repeats = smoke ? 2 : 200
    let forward = rawProductSeconds(products.forward, repeats: repeats)
    let pullback = rawProductSeconds(products.pullback, repeats: repeats)
    let bound = Double(nfe) * forward + Double(nfeBackward) * pullback
    return ["ms_per_nfe": iteration / Double(nfe + nfeBackward) * 1e3, "blas_bound_s": bound,
            "bound_ratio": iteration / bound, "sgemm_forward_ms": forward * 1e3, "sgemm_pullback_ms": pullback * 1e3]
}
