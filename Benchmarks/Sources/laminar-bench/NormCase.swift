import Laminar

// MARK: - groupnorm: the fused group-normalisation kernels on the classifiers' shapes

/// Group normalisation (32 groups) forward and backward, plain and with the ReLU fused into
/// both passes, Float, on the classifier's stem (26 × 26) and feature-block (6 × 6) shapes at
/// batch 128; medians of 20 calls after 3 warm-ups. `Benchmarks/peers/conv_ops_torch.py` times
/// PyTorch's `group_norm` (and a separate ReLU) on the same shapes after its convolutions.
func groupNormCase(_ s: BenchSettings) throws -> [Measurement] {
    let shapes: [[Int]] = s.smoke ? [[2, 4, 6, 6]] : [[128, 64, 26, 26], [128, 64, 6, 6]]
    var rng = RandomGenerator(seed: 4)
    var out: [Measurement] = []
    for shape in shapes {
        let groups = s.smoke ? 2 : 32
        let x = Tensor<Float>.randomNormal(shape, using: &rng)
        let dy = Tensor<Float>.randomNormal(shape, using: &rng)
        let gamma = Tensor<Float>.randomNormal([shape[1]], using: &rng), beta = Tensor<Float>.randomNormal([shape[1]], using: &rng)
        let repeats = s.smoke ? 1 : 20, warmup = s.smoke ? 0 : 3
        let name = shape.map(String.init).joined(separator: "x")
        for rectify in [false, true] {
            let (_, xhat, rstd) = Tensor.groupNorm(x, weight: gamma, bias: beta, groups: groups, epsilon: 1e-5, rectify: rectify)
            let forward = Harness.time(repeats: repeats, warmup: warmup) {
                _ = Tensor.groupNorm(x, weight: gamma, bias: beta, groups: groups, epsilon: 1e-5, rectify: rectify)
            }
            let backward = Harness.time(repeats: repeats, warmup: warmup) {
                _ = Tensor.groupNormBackward(dy, normalized: xhat, reciprocalStd: rstd, weight: gamma, groups: groups,
                                             rectifiedBias: rectify ? beta : nil)
            }
            let label = rectify ? "groupnorm+relu" : "groupnorm"
            out.append(Harness.summarize("\(label) \(name) forward", forward))
            out.append(Harness.summarize("\(label) \(name) backward", backward))
        }
    }
    return out
}
