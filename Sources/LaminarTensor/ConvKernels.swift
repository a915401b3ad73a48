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
///
/// With padding, each channel is first copied into a zero-bordered plane, so that every row
/// segment is a plain copy without bounds tests (on 6 × 6 maps the per-segment tests and
/// divisions had cost more than the copies).
func applyIm2col<S: TensorScalar>(
    _ image: UnsafePointer<S>, _ columns: UnsafeMutablePointer<S>, _ g: ConvGeometry, leadingDimension: Int? = nil
) {
    let ld = leadingDimension ?? g.outputPixels
    let taps = g.kernelHeight * g.kernelWidth, planeSize = g.height * g.width
    let p = g.padding
    guard p > 0 else {
        for c in 0..<g.channels { im2colPlane(image + c * planeSize, rowLength: g.width, columns + c * taps * ld, g, ld) }
        return
    }
    let hp = g.height + 2 * p, wp = g.width + 2 * p
    withUnsafeTemporaryAllocation(of: S.self, capacity: hp * wp) { buffer in
        let plane = buffer.baseAddress!
        fill(plane, 0, count: hp * wp)  // the border stays zero for every channel
        for c in 0..<g.channels {
            for y in 0..<g.height {
                copyShort(plane + (y + p) * wp + p, from: image + c * planeSize + y * g.width, count: g.width)
            }
            im2colPlane(plane, rowLength: wp, columns + c * taps * ld, g, ld)
        }
    }
}

/// The `kh·kw` column rows of one (padded) channel plane whose rows are `rowLength` apart.
@inline(__always)
func im2colPlane<S: TensorScalar>(
    _ plane: UnsafePointer<S>, rowLength wp: Int, _ out: UnsafeMutablePointer<S>, _ g: ConvGeometry, _ ld: Int
) {
    let wo = g.outputWidth, s = g.stride
    forEachTapRow(g, rowLength: wp, ld) { planeOffset, columnOffset in
        let src = plane + planeOffset, line = out + columnOffset
        if s == 1 {
            copyShort(line, from: src, count: wo)
        } else {
            for ox in 0..<wo { line[ox] = src[ox * s] }
        }
    }
}

/// Calls `body(planeOffset, columnOffset)` for every output row of every tap: the offset of the
/// row's first input pixel in a (padded) plane whose rows are `rowLength` apart and that of its
/// segment in the column rows (`ld` apart).
@inline(__always)
func forEachTapRow(_ g: ConvGeometry, rowLength wp: Int, _ ld: Int, _ body: (_ planeOffset: Int, _ columnOffset: Int) -> Void) {
    let ho = g.outputHeight, wo = g.outputWidth, s = g.stride
    for ki in 0..<g.kernelHeight {
        for kj in 0..<g.kernelWidth {
            let row = (ki * g.kernelWidth + kj) * ld
            for oy in 0..<ho { body((oy * s + ki) * wp + kj, row + oy * wo) }
        }
    }
}

/// Adds the `kh·kw` column rows of one channel back into a (padded) plane whose rows are
/// `rowLength` apart.
@inline(__always)
func col2imPlane<S: TensorScalar>(
    _ columns: UnsafePointer<S>, _ plane: UnsafeMutablePointer<S>, rowLength wp: Int, _ g: ConvGeometry, _ ld: Int
) {
    let wo = g.outputWidth, s = g.stride
    forEachTapRow(g, rowLength: wp, ld) { planeOffset, columnOffset in
        let dst = plane + planeOffset, line = columns + columnOffset
        if s == 1 {
            for ox in 0..<wo { dst[ox] += line[ox] }
        } else {
            for ox in 0..<wo { dst[ox * s] += line[ox] }
        }
    }
}

/// Copies `count` scalars; rows of small feature maps (6 × 6 in the classifiers' ODE block) are a
/// few scalars long, where a `memcpy` call costs more than the copy (perf: `memmove` and `memset`
/// 14 % of a classifier step before).
@inline(__always)
func copyShort<S: TensorScalar>(_ destination: UnsafeMutablePointer<S>, from source: UnsafePointer<S>, count: Int) {
    if count >= 64 { return copyScalars(destination, from: source, count: count) }
    var i = 0
    while i < count {
        destination[i] = source[i]
        i += 1
    }
}

/// Sets `count` scalars to zero, inline for short runs (see ``copyShort(_:from:count:)``).
@inline(__always)
func zeroShort<S: TensorScalar>(_ destination: UnsafeMutablePointer<S>, count: Int) {
    if count >= 64 { return fill(destination, 0, count: count) }
    var i = 0
    while i < count {
        destination[i] = 0
        i += 1
    }
}

/// The adjoint of ``applyIm2col(_:_:_:leadingDimension:)``: adds every column entry back into the
/// image pixel it was read from (overlapping taps accumulate). With `accumulate` the image must
/// be initialised and receives the sums on top; without, it is overwritten.
func applyCol2im<S: TensorScalar>(
    _ columns: UnsafePointer<S>, _ image: UnsafeMutablePointer<S>, _ g: ConvGeometry, leadingDimension: Int? = nil,
    accumulate: Bool = true
) {
    let ld = leadingDimension ?? g.outputPixels
    let taps = g.kernelHeight * g.kernelWidth, planeSize = g.height * g.width
    let p = g.padding
    guard p > 0 else {
        if !accumulate { fill(image, 0, count: g.channels * planeSize) }
        for c in 0..<g.channels { col2imPlane(columns + c * taps * ld, image + c * planeSize, rowLength: g.width, g, ld) }
        return
    }
    let hp = g.height + 2 * p, wp = g.width + 2 * p
    withUnsafeTemporaryAllocation(of: S.self, capacity: hp * wp) { buffer in
        let plane = buffer.baseAddress!
        for c in 0..<g.channels {
            fill(plane, 0, count: hp * wp)
            col2imPlane(columns + c * taps * ld, plane, rowLength: wp, g, ld)
            for y in 0..<g.height {
                let src = plane + (y + p) * wp + p, dst = image + c * planeSize + y * g.width
                if accumulate {
                    for x in 0..<g.width { dst[x] += src[x] }
                } else {
                    copyShort(dst, from: src, count: g.width)
                }
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
