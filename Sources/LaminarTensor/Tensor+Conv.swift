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

    /// The geometry, batch size and output channels of an adjoint product, checking that the
    /// output gradient has the convolution's output shape `[N, O, Ho, Wo]`.
    static func adjointGeometry(
        _ name: String, _ input: [Int], _ weight: [Int], _ gradOutput: [Int], _ stride: Int, _ padding: Int
    ) -> (ConvGeometry, n: Int, o: Int) {
        let g = convGeometry(input, weight, stride: stride, padding: padding)
        let n = input[0], o = weight[0]
        precondition(gradOutput == [n, o, g.outputHeight, g.outputWidth], "\(name): gradient \(gradOutput)")
        return (g, n, o)
    }

    /// 2-D cross-correlation (PyTorch's `conv2d`): input [N, C, H, W], weight [O, C, kh, kw],
    /// optional bias [O] → [N, O, Ho, Wo]. Runs on ``ConvEngine``: im2col of a chunk of images
    /// into one column matrix and one GEMM per chunk, the bias added while the product is
    /// scattered into the output; 1 × 1 convolutions skip im2col; 3 × 3, stride 1, padding 1
    /// convolutions with at least 16 channels on both sides run on Winograd's F(2 × 2, 3 × 3)
    /// (``WinogradEngine``) and 4 × 4, stride 2, padding 1 ones on F(3 × 3, 2 × 2) over the
    /// convolution's four phases (``PolyphaseWinogradEngine``), as do their two adjoint products.
    ///
    /// - Complexity: 2·N·O·(C·kh·kw)·(Ho·Wo) flops; a pooled column workspace of at most
    ///   ``ConvEngine/columnBudget`` scalars per thread (one image's C·kh·kw·Ho·Wo at least).
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        let g = convGeometry(input.shape, weight.shape, stride: stride, padding: padding)
        let n = input.shape[0], o = weight.shape[0]
        if let bias { precondition(bias.shape == [o], "conv2d: bias \(bias.shape) must be [\(o)]") }
        return Tensor(shape: [n, o, g.outputHeight, g.outputWidth]) { out in
            input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    func run(_ b: UnsafePointer<Scalar>?) {
                        ConvEngine.forward(x: x.baseAddress!, weight: w.baseAddress!, bias: b, out: out.baseAddress!,
                                           n: n, outputChannels: o, g)
                    }
                    if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
                }
            }
        }
    }

    /// Gradient of `conv2d` with respect to its input: col2im(Wᵀ · g), one GEMM per chunk of images
    /// (Winograd for the geometries where `conv2d` uses it).
    public static func conv2dBackwardInput(_ gradOutput: Tensor, weight: Tensor, inputShape: [Int], stride: Int, padding: Int) -> Tensor {
        let (g, n, o) = adjointGeometry("conv2dBackwardInput", inputShape, weight.shape, gradOutput.shape, stride, padding)
        return Tensor(shape: inputShape) { dx in
            gradOutput.withUnsafeBufferPointer { gy in
                weight.withUnsafeBufferPointer { w in
                    ConvEngine.backwardInput(gradOutput: gy.baseAddress!, weight: w.baseAddress!, gradInput: dx.baseAddress!,
                                             n: n, outputChannels: o, g)
                }
            }
        }
    }

    /// Gradient of `conv2d` with respect to its weight: Σₙ gₙ · colsₙᵀ, one GEMM per chunk of images
    /// (Winograd for the geometries where `conv2d` uses it).
    public static func conv2dBackwardWeight(_ input: Tensor, gradOutput: Tensor, weightShape: [Int], stride: Int, padding: Int) -> Tensor {
        let (g, n, o) = adjointGeometry("conv2dBackwardWeight", input.shape, weightShape, gradOutput.shape, stride, padding)
        return Tensor(shape: weightShape) { dw in
            input.withUnsafeBufferPointer { x in
                gradOutput.withUnsafeBufferPointer { gy in
                    ConvEngine.backwardWeight(x: x.baseAddress!, gradOutput: gy.baseAddress!, gradWeight: dw.baseAddress!,
                                              n: n, outputChannels: o, g)
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
