/// 2-D convolution (cross-correlation, PyTorch's `conv2d`): x [N, C, H, W], weight [O, C, kh, kw],
/// bias [O]. The convolution and its two adjoint products are bilinear and closed under
/// differentiation (each one's backward is written with the other two), so gradients through
/// convolutions can be differentiated again.
public func conv2d<S>(
    _ x: Variable<S>, weight: Variable<S>, bias: Variable<S>? = nil, stride: Int = 1, padding: Int = 0
) -> Variable<S> {
    // The bias is added inside the convolution's kernel (no separate broadcasting pass); its
    // gradient is the output gradient summed over images and pixels.
    let value = Tensor.conv2d(x.value, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Variable.record("conv2d", value, inputs) { g, _, needs in
        var grads = [
            needs[0] ? conv2dBackwardInput(g, weight: weight, inputShape: x.shape, stride: stride, padding: padding) : nil,
            needs[1] ? conv2dBackwardWeight(x, gradOutput: g, weightShape: weight.shape, stride: stride, padding: padding) : nil,
        ]
        if inputs.count == 3 { grads.append(needs[2] ? g.sum(axes: [0, 2, 3]) : nil) }
        return grads
    }
}

/// The input-gradient of `conv2d` as a differentiable operation.
public func conv2dBackwardInput<S>(
    _ gradOutput: Variable<S>, weight: Variable<S>, inputShape: [Int], stride: Int, padding: Int
) -> Variable<S> {
    let value = Tensor.conv2dBackwardInput(gradOutput.value, weight: weight.value, inputShape: inputShape, stride: stride, padding: padding)
    return Variable.record("conv2dBackwardInput", value, [gradOutput, weight]) { g, _, needs in
        [
            needs[0] ? conv2d(g, weight: weight, stride: stride, padding: padding) : nil,
            needs[1] ? conv2dBackwardWeight(g, gradOutput: gradOutput, weightShape: weight.shape, stride: stride, padding: padding) : nil,
        ]
    }
}

/// The weight-gradient of `conv2d` as a differentiable operation.
public func conv2dBackwardWeight<S>(
    _ x: Variable<S>, gradOutput: Variable<S>, weightShape: [Int], stride: Int, padding: Int
) -> Variable<S> {
    let value = Tensor.conv2dBackwardWeight(x.value, gradOutput: gradOutput.value, weightShape: weightShape, stride: stride, padding: padding)
    return Variable.record("conv2dBackwardWeight", value, [x, gradOutput]) { g, _, needs in
        [
            needs[0] ? conv2dBackwardInput(gradOutput, weight: g, inputShape: x.shape, stride: stride, padding: padding) : nil,
            needs[1] ? conv2d(x, weight: g, stride: stride, padding: padding) : nil,
        ]
    }
}

/// Average pooling over `kernel × kernel` windows (a convolution of each channel with a
/// constant kernel, so it inherits the convolution's differentiability).
public func avgPool2d<S>(_ x: Variable<S>, kernel: Int, stride: Int) -> Variable<S> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let ones = Variable(Tensor<S>(repeating: 1 / S(kernel * kernel), shape: [1, 1, kernel, kernel]))
    let y = conv2d(x.reshaped([n * c, 1, h, w]), weight: ones, stride: stride)
    return y.reshaped([n, c, y.shape[2], y.shape[3]])
}
