import Laminar

// MARK: - conv: the convolution engine on the image models' shapes

/// Forward, input-gradient and weight-gradient products of one convolution, Float, on the
/// shapes of the classifiers (ODE block, stem) and of the multiscale CNF's fields (3 × 3 ones on
/// the Winograd path, 7 × 7 with partial tiles); medians of
/// 20 calls after 3 warm-ups. `Benchmarks/peers/onednn_conv.c` and `conv_ops_torch.py` time
/// oneDNN and PyTorch on the same shapes.
func convCase(_ s: BenchSettings) throws -> [Measurement] {
    // (name, [N, C, H, W], output channels, kernel, stride, padding)
    let shapes: [(String, [Int], Int, Int, Int, Int)] = s.smoke
        ? [("smoke 2x3x6x6 -> 4, 3x3 p1", [2, 3, 6, 6], 4, 3, 1, 1)]
        : [("odenet block 128x65x6x6 -> 64, 3x3 p1", [128, 65, 6, 6], 64, 3, 1, 1),
           ("stem 128x1x28x28 -> 64, 3x3", [128, 1, 28, 28], 64, 3, 1, 0),
           ("stem 128x64x26x26 -> 64, 4x4 s2 p1", [128, 64, 26, 26], 64, 4, 2, 1),
           ("stem 128x64x13x13 -> 64, 4x4 s2 p1", [128, 64, 13, 13], 64, 4, 2, 1),
           ("resnet block 128x64x6x6 -> 64, 3x3 p1", [128, 64, 6, 6], 64, 3, 1, 1),
           ("cnf 64x33x28x28 -> 32, 3x3 p1", [64, 33, 28, 28], 32, 3, 1, 1),
           ("cnf 64x33x14x14 -> 32, 3x3 p1", [64, 33, 14, 14], 32, 3, 1, 1),
           ("cnf 64x33x7x7 -> 32, 3x3 p1", [64, 33, 7, 7], 32, 3, 1, 1)]
    var rng = RandomGenerator(seed: 2)
    var out: [Measurement] = []
    for (name, shape, o, k, stride, padding) in shapes {
        let x = Tensor<Float>.randomNormal(shape, using: &rng)
        let w = Tensor<Float>.randomNormal([o, shape[1], k, k], using: &rng)
        let b = Tensor<Float>.randomNormal([o], using: &rng)
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: stride, padding: padding)
        let repeats = s.smoke ? 1 : 20, warmup = s.smoke ? 0 : 3
        let forward = Harness.time(repeats: repeats, warmup: warmup) {
            _ = Tensor.conv2d(x, weight: w, bias: b, stride: stride, padding: padding)
        }
        let input = Harness.time(repeats: repeats, warmup: warmup) {
            _ = Tensor.conv2dBackwardInput(y, weight: w, inputShape: shape, stride: stride, padding: padding)
        }
        let weight = Harness.time(repeats: repeats, warmup: warmup) {
            _ = Tensor.conv2dBackwardWeight(x, gradOutput: y, weightShape: w.shape, stride: stride, padding: padding)
        }
        let flops = Double(2 * y.count * shape[1] * k * k)
        for (kind, samples) in [("forward", forward), ("backward data", input), ("backward weights", weight)] {
            var m = Harness.summarize("\(name) \(kind)", samples)
            m.extra = ["gflops": flops / m.median / 1e9]
            out.append(m)
        }
    }
    return out
}
