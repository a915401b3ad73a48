/// Shape bookkeeping of a 2-D convolution (square stride and zero padding).
public struct ConvGeometry: Sendable, Equatable {
    /// Input channels `C` and spatial extent `H × W` of one image.
    public var channels, height, width: Int
    /// Kernel extent `kh × kw`.
    public var kernelHeight, kernelWidth: Int
    /// Step between output pixels (both axes) and zeros added on every side (both axes).
    public var stride, padding: Int

    /// The geometry of a convolution of a `[channels, height, width]` image with a
    /// `kernelHeight × kernelWidth` kernel. Not validated here; ``Tensor/conv2d(_:weight:bias:stride:padding:)``
    /// checks that the output is non-empty.
    public init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    /// Output rows `Ho = ⌊(H + 2·padding − kh) / stride⌋ + 1`.
    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    /// Output columns `Wo = ⌊(W + 2·padding − kw) / stride⌋ + 1`.
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the column matrix: C·kh·kw.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the column matrix: Ho·Wo.
    public var outputPixels: Int { outputHeight * outputWidth }
}

/// Writes the column matrix of one image: row `(c·kh + ki)·kw + kj` holds the input pixels under
/// tap `(ki, kj)` of channel `c` for every output pixel (zeros where the tap falls on padding).
/// Rows are `leadingDimension` scalars apart (Ho·Wo when nil), so the columns of several images
/// can sit side by side in one matrix `[C·kh·kw, images·Ho·Wo]`.
func applyIm2col<S: TensorScalar>(
    _ image: UnsafePointer<S>, _ columns: UnsafeMutablePointer<S>, _ g: ConvGeometry, leadingDimension: Int? = nil
) {
    let ho = g.outputHeight, wo = g.outputWidth, stride = g.stride
    let ld = leadingDimension ?? ho * wo
    var row = 0
    for c in 0..<g.channels {
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let out = columns + row * ld
                let (first, end) = validOutputRange(offset: kj - g.padding, stride: stride, size: g.width, outputs: wo)
                for oy in 0..<ho {
                    let y = oy * stride + ki - g.padding
                    let line = out + oy * wo
                    guard y >= 0 && y < g.height && first < end else {
                        line.update(repeating: 0, count: wo)
                        continue
                    }
                    if first > 0 { line.update(repeating: 0, count: first) }
                    if end < wo { (line + end).update(repeating: 0, count: wo - end) }
                    let src = image + (c * g.height + y) * g.width + (kj - g.padding)
                    if stride == 1 {
                        copyScalars(line + first, from: src + first, count: end - first)
                    } else {
                        for ox in first..<end { line[ox] = src[ox * stride] }
                    }
                }
                row += 1
            }
        }
    }
}

/// Output columns `first..<end` whose input column `ox · stride + offset` lies inside `0..<size`.
@inline(__always)
func validOutputRange(offset: Int, stride: Int, size: Int, outputs: Int) -> (Int, Int) {
    // ox · stride + offset ≥ 0  ⇔  ox ≥ ⌈−offset / stride⌉;  ox · stride + offset ≤ size − 1.
    let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let last = size - 1 - offset
    let end = last < 0 ? 0 : Swift.min(outputs, last / stride + 1)
    return (Swift.min(first, end), end)
}

/// The adjoint of ``applyIm2col(_:_:_:leadingDimension:)``: adds every column entry back into the
/// image pixel it was read from (overlapping taps accumulate; `image` must be initialised).
func applyCol2im<S: TensorScalar>(
    _ columns: UnsafePointer<S>, _ image: UnsafeMutablePointer<S>, _ g: ConvGeometry, leadingDimension: Int? = nil
) {
    let ho = g.outputHeight, wo = g.outputWidth, stride = g.stride
    let ld = leadingDimension ?? ho * wo
    var row = 0
    for c in 0..<g.channels {
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let col = columns + row * ld
                let (first, end) = validOutputRange(offset: kj - g.padding, stride: stride, size: g.width, outputs: wo)
                for oy in 0..<ho where first < end {
                    let y = oy * stride + ki - g.padding
                    if y < 0 || y >= g.height { continue }
                    let dst = image + (c * g.height + y) * g.width + (kj - g.padding)
                    let line = col + oy * wo
                    if stride == 1 {
                        for ox in first..<end { dst[ox] += line[ox] }
                    } else {
                        for ox in first..<end { dst[ox * stride] += line[ox] }
                    }
                }
                row += 1
            }
        }
    }
}

/// Sets `count` scalars at `p` to `value` with raw memory operations: `memset` for +0, otherwise
/// one store and doubling copies. Scalars are trivial, so this is exact, and it stays fast when
/// called from unspecialised generic code (an element loop there assigns through value
/// witnesses, which showed up in profiles of the CNF's dynamics).
@inline(__always)
func fill<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, _ value: S, count: Int) {
    guard count > 0 else { return }
    if value == 0 && value.sign == .plus {
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<S>.stride)
        return
    }
    p[0] = value
    repeatPrefix(p, prefix: 1, total: count)
}

/// Fills `p[prefix..<total]` by repeating `p[0..<prefix]`, with doubling copies of what is done
/// (about log₂(total / prefix) `memcpy` calls).
func repeatPrefix<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, prefix: Int, total: Int) {
    guard prefix > 0 else { return }
    var done = prefix
    while done < total {
        let chunk = Swift.min(done, total - done)
        copyScalars(p + done, from: p, count: chunk)
        done += chunk
    }
}

/// Copies `count` scalars from `source` to `destination` (non-overlapping, initialised or not):
/// one `memcpy`, also from unspecialised generic code.
@inlinable @inline(__always)
func copyScalars<S: TensorScalar>(_ destination: UnsafeMutablePointer<S>, from source: UnsafePointer<S>, count: Int) {
    guard count > 0 else { return }
    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<S>.stride)
}
