/// The convolution engine behind ``Tensor/conv2d(_:weight:bias:stride:padding:)`` and its two
/// adjoint products.
///
/// The images of a batch are processed in chunks: the column matrices of a chunk's images sit
/// side by side (`[C·kh·kw, images·Ho·Wo]`), so each chunk costs one GEMM whose long side is
/// `images·Ho·Wo` rather than one small GEMM per image (the classifiers' 6 × 6 feature maps gave
/// per-image products only 36 columns wide). The chunk's column matrix is bounded by
/// ``columnBudget`` scalars, so it stays in cache between im2col and the product. Workspaces
/// come from ``BufferPool`` (no fresh, zeroed pages per call). 1 × 1 convolutions without
/// stride or padding skip im2col: an image is its own column matrix. 3 × 3 stride-1 padding-1
/// convolutions run on ``WinogradEngine`` (F(2 × 2, 3 × 3)) and 4 × 4 stride-2 padding-1 ones on
/// ``PolyphaseWinogradEngine`` (F(3 × 3, 2 × 2) over the four phases) when both sides have at
/// least ``winogradMinimumChannels`` channels, in all three directions. With more than one
/// configured thread (``BLASThreads/set(_:)``) the batch is split into one block of images per
/// thread, each block's products on its own thread (weight gradients summed at the end).
enum ConvEngine {
    /// The algorithm behind a convolution: chosen by ``usesWinograd(_:outputChannels:)`` and
    /// ``usesPolyphaseWinograd(_:outputChannels:)`` (`automatic`), or forced (tests, benchmarks).
    enum Algorithm: Sendable { case automatic, im2col, winograd }

    /// The algorithm for the current task; forcing `winograd` applies only where
    /// ``WinogradEngine/applies(_:)`` or ``PolyphaseWinogradEngine/applies(_:)``.
    @TaskLocal static var algorithm = Algorithm.automatic

    /// Channels on both sides from which a 3 × 3, stride 1, padding 1 convolution runs on
    /// ``WinogradEngine`` and a 4 × 4, stride 2, padding 1 one on ``PolyphaseWinogradEngine``
    /// (all three directions).
    static let winogradMinimumChannels = 16

    /// Whether a convolution (and its two adjoint products) runs on ``WinogradEngine``: 3 × 3,
    /// stride 1, padding 1 with at least ``winogradMinimumChannels`` input and output channels,
    /// unless ``algorithm`` forces a choice.
    static func usesWinograd(_ g: ConvGeometry, outputChannels o: Int) -> Bool {
        guard WinogradEngine.applies(g) else { return false }
        switch algorithm {
        case .im2col: return false
        case .winograd: return true
        case .automatic: return Swift.min(g.channels, o) >= winogradMinimumChannels
        }
    }

    /// Whether a convolution (and its two adjoint products) runs on ``PolyphaseWinogradEngine``:
    /// 4 × 4, stride 2, padding 1 with at least ``winogradMinimumChannels`` input and output
    /// channels, unless ``algorithm`` forces a choice.
    static func usesPolyphaseWinograd(_ g: ConvGeometry, outputChannels o: Int) -> Bool {
        guard PolyphaseWinogradEngine.applies(g) else { return false }
        switch algorithm {
        case .im2col: return false
        case .winograd: return true
        case .automatic: return Swift.min(g.channels, o) >= winogradMinimumChannels
        }
    }

    /// Scalars of one chunk's column matrix (at least one image per chunk); settable per task
    /// so that tests can force many chunks.
    @TaskLocal static var columnBudget = 1 << 19

    /// The blocks of images processed concurrently: one per configured thread (at most one per
    /// image), a single block when the caller already runs on a worker of a parallel region.
    static func imageBlocks(_ n: Int) -> [Range<Int>] {
        if BLASThreads.pinned { return [0..<n] }
        return RowParallel.blocks(rows: n, minimumRows: 1)
    }

    /// Output pixels from which one image's product is wide enough on its own: such images are
    /// processed one at a time, straight into the output, without the copy between the chunk's
    /// `[O, images·P]` product and the `[images, O, P]` output (perf: that copy was 7.6 % of a
    /// classifier step, mostly on the stem's 26 × 26 and 13 × 13 maps).
    static let wideImagePixels = 128

    /// Images per chunk for a geometry.
    static func chunkSize(_ g: ConvGeometry, images: Int) -> Int {
        if g.outputPixels >= wideImagePixels { return 1 }
        return Swift.max(1, Swift.min(images, columnBudget / Swift.max(1, g.patchSize * g.outputPixels)))
    }

    /// Whether the convolution is a plain channel mix (1 × 1 kernel, stride 1, no padding).
    static func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0
    }

    /// `out[i, o] = Σ_c,taps w[o, c, taps] ⋆ x[i, c] + bias[o]` for a batch of `n` images.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forward<S: TensorScalar>(
        x: UnsafePointer<S>, weight w: UnsafePointer<S>, bias: UnsafePointer<S>?, out: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        if usesWinograd(g, outputChannels: o) {
            return WinogradEngine.forward(x: x, weight: w, bias: bias, out: out, n: n, outputChannels: o, g)
        }
        if usesPolyphaseWinograd(g, outputChannels: o) {
            return PolyphaseWinogradEngine.forward(x: x, weight: w, bias: bias, out: out, n: n, outputChannels: o, g)
        }
        let p = g.outputPixels, k = g.patchSize, imageSize = g.channels * g.height * g.width
        let blocks = imageBlocks(n)
        _ = RowParallel.map(blocks) { block in
            if isPointwise(g) {
                for i in block {
                    let y = out + i * o * p
                    if let bias { for c in 0..<o { fill(y + c * p, bias[c], count: p) } }
                    S.gemm(transposeA: false, transposeB: false, m: o, n: p, k: k, alpha: 1, a: w, lda: k,
                           b: x + i * imageSize, ldb: p, beta: bias == nil ? 0 : 1, c: y, ldc: p)
                }
                return
            }
            forEachChunk(block, g, outputChannels: o) { (start, m, columns: UnsafeMutablePointer<S>, product) in
                let ld = m * p
                im2colChunk(x, first: start, images: m, into: columns, g)
                if m == 1 {
                    let y = out + start * o * p
                    if let bias { for c in 0..<o { fill(y + c * p, bias[c], count: p) } }
                    S.gemm(transposeA: false, transposeB: false, m: o, n: p, k: k, alpha: 1, a: w, lda: k,
                           b: columns, ldb: p, beta: bias == nil ? 0 : 1, c: y, ldc: p)
                    return
                }
                S.gemm(transposeA: false, transposeB: false, m: o, n: ld, k: k, alpha: 1, a: w, lda: k,
                       b: columns, ldb: ld, beta: 0, c: product, ldc: ld)
                // [O, m·P] → the images' [O, P] planes, adding the bias on the way.
                for j in 0..<m {
                    for c in 0..<o {
                        let src = product + c * ld + j * p, dst = out + ((start + j) * o + c) * p
                        if let bias {
                            let b = bias[c]
                            for q in 0..<p { dst[q] = src[q] + b }
                        } else {
                            copyShort(dst, from: src, count: p)
                        }
                    }
                }
            }
        }
    }

    /// `dx = col2im(wᵀ · dy)` for a batch: the gradient of ``forward(x:weight:bias:out:n:outputChannels:_:)``
    /// with respect to its input (`dx` need not be initialised).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardInput<S: TensorScalar>(
        gradOutput dy: UnsafePointer<S>, weight w: UnsafePointer<S>, gradInput dx: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        if usesWinograd(g, outputChannels: o) {
            return WinogradEngine.backwardInput(gradOutput: dy, weight: w, gradInput: dx, n: n, outputChannels: o, g)
        }
        if usesPolyphaseWinograd(g, outputChannels: o) {
            return PolyphaseWinogradEngine.backwardInput(gradOutput: dy, weight: w, gradInput: dx, n: n, outputChannels: o, g)
        }
        let p = g.outputPixels, k = g.patchSize, imageSize = g.channels * g.height * g.width
        _ = RowParallel.map(imageBlocks(n)) { block in
            if isPointwise(g) {
                for i in block {
                    S.gemm(transposeA: true, transposeB: false, m: k, n: p, k: o, alpha: 1, a: w, lda: k,
                           b: dy + i * o * p, ldb: p, beta: 0, c: dx + i * imageSize, ldc: p)
                }
                return
            }
            forEachChunk(block, g, outputChannels: o) { (start, m, columns: UnsafeMutablePointer<S>, gathered) in
                let ld = m * p
                let b = m == 1 ? dy + start * o * p : gatherPlanes(dy, into: gathered, first: start, images: m, channels: o, pixels: p)
                S.gemm(transposeA: true, transposeB: false, m: k, n: ld, k: o, alpha: 1, a: w, lda: k,
                       b: b, ldb: ld, beta: 0, c: columns, ldc: ld)
                for j in 0..<m {
                    applyCol2im(columns + j * p, dx + (start + j) * imageSize, g, leadingDimension: ld, accumulate: false)
                }
            }
        }
    }

    /// `dw = Σᵢ dyᵢ · colsᵢᵀ`: the gradient of ``forward(x:weight:bias:out:n:outputChannels:_:)``
    /// with respect to its weight (`dw` need not be initialised).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardWeight<S: TensorScalar>(
        x: UnsafePointer<S>, gradOutput dy: UnsafePointer<S>, gradWeight dw: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        if usesWinograd(g, outputChannels: o) {
            return WinogradEngine.backwardWeight(x: x, gradOutput: dy, gradWeight: dw, n: n, outputChannels: o, g)
        }
        if usesPolyphaseWinograd(g, outputChannels: o) {
            return PolyphaseWinogradEngine.backwardWeight(x: x, gradOutput: dy, gradWeight: dw, n: n, outputChannels: o, g)
        }
        let p = g.outputPixels, k = g.patchSize, imageSize = g.channels * g.height * g.width
        let blocks = imageBlocks(n)
        // Block 0 accumulates into `dw`, every other block into its own partial sum.
        let partials = (1..<blocks.count).map { _ in Workspace<S>(count: o * k) }
        defer { partials.forEach { $0.release() } }
        _ = RowParallel.map(blocks) { block in
            let b0 = blocks.firstIndex(of: block)!
            let target = b0 == 0 ? dw : partials[b0 - 1].pointer
            var beta: S = 0
            if isPointwise(g) {
                for i in block {
                    S.gemm(transposeA: false, transposeB: true, m: o, n: k, k: p, alpha: 1, a: dy + i * o * p, lda: p,
                           b: x + i * imageSize, ldb: p, beta: beta, c: target, ldc: k)
                    beta = 1
                }
                return
            }
            forEachChunk(block, g, outputChannels: o) { (start, m, columns: UnsafeMutablePointer<S>, gathered) in
                let ld = m * p
                im2colChunk(x, first: start, images: m, into: columns, g)
                let a = m == 1 ? dy + start * o * p : gatherPlanes(dy, into: gathered, first: start, images: m, channels: o, pixels: p)
                S.gemm(transposeA: false, transposeB: true, m: o, n: k, k: ld, alpha: 1, a: a, lda: ld,
                       b: columns, ldb: ld, beta: beta, c: target, ldc: k)
                beta = 1
            }
        }
        for partial in partials { S.axpy(count: o * k, alpha: 1, partial.pointer, dw) }
    }

    /// Runs `body(start, images, columns, planes)` for the chunks of a block of images, with a
    /// column workspace of `C·kh·kw × images·P` scalars and, when a chunk holds more than one
    /// image, a workspace of `O × images·P` scalars (the chunk's product or gathered gradient).
    @inline(__always)
    static func forEachChunk<S: TensorScalar>(
        _ block: Range<Int>, _ g: ConvGeometry, outputChannels o: Int,
        _ body: (_ start: Int, _ images: Int, _ columns: UnsafeMutablePointer<S>, _ planes: UnsafeMutablePointer<S>) -> Void
    ) {
        let p = g.outputPixels, chunk = chunkSize(g, images: block.count)
        let columns = Workspace<S>(count: g.patchSize * chunk * p)
        let planes = Workspace<S>(count: chunk > 1 ? o * chunk * p : 0)
        defer { columns.release(); planes.release() }
        for start in stride(from: block.lowerBound, to: block.upperBound, by: chunk) {
            body(start, Swift.min(chunk, block.upperBound - start), columns.pointer, planes.pointer)
        }
    }

    /// The column matrices of images `first..<first+images` side by side: `[C·kh·kw, images·P]`.
    @inline(__always)
    static func im2colChunk<S: TensorScalar>(
        _ x: UnsafePointer<S>, first: Int, images: Int, into columns: UnsafeMutablePointer<S>, _ g: ConvGeometry
    ) {
        let p = g.outputPixels, imageSize = g.channels * g.height * g.width
        for j in 0..<images {
            applyIm2col(x + (first + j) * imageSize, columns + j * p, g, leadingDimension: images * p)
        }
    }

    /// Copies images `first..<first+images` of `[N, C, P]` planes into one `[C, images·P]` matrix.
    @inline(__always)
    static func gatherPlanes<S: TensorScalar>(
        _ planes: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>, first: Int, images: Int, channels: Int, pixels: Int
    ) -> UnsafePointer<S> {
        let ld = images * pixels
        for j in 0..<images {
            for c in 0..<channels {
                copyShort(matrix + c * ld + j * pixels, from: planes + ((first + j) * channels + c) * pixels, count: pixels)
            }
        }
        return UnsafePointer(matrix)
    }
}

/// A scratch buffer from ``BufferPool`` (reused across calls, never zeroed), released explicitly.
struct Workspace<S: TensorScalar> {
    /// The first scalar; valid for `max(count, 1)` scalars until ``release()``.
    let pointer: UnsafeMutablePointer<S>
    let bytes: Int

    init(count: Int) {
        bytes = Swift.max(count, 1) * MemoryLayout<S>.stride
        pointer = BufferPool.shared.take(bytes: bytes).bindMemory(to: S.self, capacity: Swift.max(count, 1))
    }

    func release() { BufferPool.shared.give(UnsafeMutableRawPointer(pointer), bytes: bytes) }
}
