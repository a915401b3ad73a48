extension Tensor {
    static func convGeometry(_ input: [Int], _ weight: [Int], stride: Int, padding: Int) -> ConvGeometry {
        precondition(input.count == 4 && weight.count == 4, "conv2d: input \(input) and weight \(weight) must be rank 4")
        precondition(input[1] == weight[1], "conv2d: input has \(input[1]) channels, weight expects \(weight[1]) (\(input) vs \(weight))")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
        let g = ConvGeometry(channels: input[1], height: input[2], width: input[3], kernelHeight: weight[2],
                             kernelWidth: weight[3], stride: stride, padding: padding)
        precondition(g.outputHeight > 0 && g.outputWidth > 0, "conv2d: kernel \(weight) larger than padded input \(input)")
        return g
    }

    /// 2-D cross-correlation (PyTorch's `conv2d`): input [N, C, H, W], weight [O, C, kh, kw],
    /// optional bias [O] → [N, O, Ho, Wo]; im2col then one GEMM per image.
    ///
    /// - Complexity: 2·N·O·(C·kh·kw)·(Ho·Wo) flops in N matrix products, and a column buffer of
    ///   C·kh·kw·Ho·Wo scalars reused across the images.
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        let g = convGeometry(input.shape, weight.shape, stride: stride, padding: padding)
        let n = input.shape[0], o = weight.shape[0]
        var columns = [Scalar](repeating: 0, count: g.patchSize * g.outputPixels)
        var out = Tensor(shape: [n, o, g.outputHeight, g.outputWidth]) { buf in
            input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    columns.withUnsafeMutableBufferPointer { col in
                        for i in 0..<n {
                            Scalar.im2col(x.baseAddress! + i * g.channels * g.height * g.width, col.baseAddress!, g)
                            Scalar.gemm(transposeA: false, transposeB: false, m: o, n: g.outputPixels, k: g.patchSize,
                                        alpha: 1, a: w.baseAddress!, lda: g.patchSize, b: col.baseAddress!, ldb: g.outputPixels,
                                        beta: 0, c: buf.baseAddress! + i * o * g.outputPixels, ldc: g.outputPixels)
                        }
                    }
                }
            }
        }
        if let bias {
            precondition(bias.shape == [o], "conv2d: bias \(bias.shape) must be [\(o)]")
            out = out + bias.reshaped([1, o, 1, 1])
        }
        return out
    }

    /// Gradient of `conv2d` with respect to its input: col2im(Wᵀ · g).
    public static func conv2dBackwardInput(_ gradOutput: Tensor, weight: Tensor, inputShape: [Int], stride: Int, padding: Int) -> Tensor {
        let g = convGeometry(inputShape, weight.shape, stride: stride, padding: padding)
        let n = inputShape[0], o = weight.shape[0]
        precondition(gradOutput.shape == [n, o, g.outputHeight, g.outputWidth], "conv2dBackwardInput: gradient \(gradOutput.shape)")
        var columns = [Scalar](repeating: 0, count: g.patchSize * g.outputPixels)
        return Tensor(shape: inputShape) { buf in
            fill(buf.baseAddress!, 0, count: buf.count)
            gradOutput.withUnsafeBufferPointer { gy in
                weight.withUnsafeBufferPointer { w in
                    columns.withUnsafeMutableBufferPointer { col in
                        for i in 0..<n {
                            Scalar.gemm(transposeA: true, transposeB: false, m: g.patchSize, n: g.outputPixels, k: o,
                                        alpha: 1, a: w.baseAddress!, lda: g.patchSize, b: gy.baseAddress! + i * o * g.outputPixels,
                                        ldb: g.outputPixels, beta: 0, c: col.baseAddress!, ldc: g.outputPixels)
                            Scalar.col2im(col.baseAddress!, buf.baseAddress! + i * g.channels * g.height * g.width, g)
                        }
                    }
                }
            }
        }
    }

    /// Gradient of `conv2d` with respect to its weight: Σₙ gₙ · colsₙᵀ.
    public static func conv2dBackwardWeight(_ input: Tensor, gradOutput: Tensor, weightShape: [Int], stride: Int, padding: Int) -> Tensor {
        let g = convGeometry(input.shape, weightShape, stride: stride, padding: padding)
        let n = input.shape[0], o = weightShape[0]
        precondition(gradOutput.shape == [n, o, g.outputHeight, g.outputWidth], "conv2dBackwardWeight: gradient \(gradOutput.shape)")
        var columns = [Scalar](repeating: 0, count: g.patchSize * g.outputPixels)
        return Tensor(shape: weightShape) { buf in
            fill(buf.baseAddress!, 0, count: buf.count)
            input.withUnsafeBufferPointer { x in
                gradOutput.withUnsafeBufferPointer { gy in
                    columns.withUnsafeMutableBufferPointer { col in
                        for i in 0..<n {
                            Scalar.im2col(x.baseAddress! + i * g.channels * g.height * g.width, col.baseAddress!, g)
                            Scalar.gemm(transposeA: false, transposeB: true, m: o, n: g.patchSize, k: g.outputPixels,
                                        alpha: 1, a: gy.baseAddress! + i * o * g.outputPixels, lda: g.outputPixels,
                                        b: col.baseAddress!, ldb: g.outputPixels, beta: 1, c: buf.baseAddress!, ldc: g.patchSize)
                        }
                    }
                }
            }
        }
    }

    /// Average pooling over `kernel × kernel` windows with `stride` (no padding), [N, C, H, W].
    public func avgPool2d(kernel: Int, stride: Int) -> Tensor {
        precondition(rank == 4, "avgPool2d: input \(shape) must be [N, C, H, W]")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let ho = (h - kernel) / stride + 1, wo = (w - kernel) / stride + 1
        precondition(ho > 0 && wo > 0, "avgPool2d: kernel \(kernel) larger than \(h)×\(w)")
        // As a convolution of each channel with a constant kernel: reshape to [N·C, 1, H, W].
        let ones = Tensor(repeating: 1 / Scalar(kernel * kernel), shape: [1, 1, kernel, kernel])
        return Tensor.conv2d(reshaped([n * c, 1, h, w]), weight: ones, stride: stride).reshaped([n, c, ho, wo])
    }
}
