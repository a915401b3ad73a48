/// 4 × 4, stride 2, padding 1 convolutions (the classifiers' stem) by Winograd's F(3 × 3, 2 × 2)
/// (``WinogradTransform32``) over the convolution's four phases.
///
/// With `xp` the input zero-padded by one pixel and phase `(p, q) ∈ {0, 1}²`, the phase images
/// `X_pq[c, u, v] = xp[c, 2u + p, 2v + q]` and filters `w'[o, (c, p, q), a, b] = w[o, c, 2a + p,
/// 2b + q]` turn the convolution into a 2 × 2 stride-1 valid one over `4·C` channels:
/// `out[o, i, j] = Σ w'[o, (c, p, q), a, b] · X_pq[c, i + a, j + b]`. That one runs as F(3 × 3,
/// 2 × 2): every 4 × 4 tile of the phase images (3 × 3 output pixels, tiles overlapping by one
/// phase pixel) of a chunk of images is transformed once, gathered straight from the input with
/// stride 2 through a zero-bordered plane (rows `6·ty + 2s + p`, columns `6·tx + 2r + q` of
/// `xp`; the phase images are never materialised), the filters once per call, and the 16 points
/// are 16 GEMMs `[O, 4C] · [4C, tiles]` through the BLAS: 2.25× fewer multiply–adds than
/// im2col + GEMM where the output tiles exactly (6 × 6 outputs), 1.69× on 13 × 13 outputs,
/// whose last tiles are partial (zero input beyond the border, output pixels beyond it
/// dropped). The inverse transform writes the output with the bias added.
///
/// The input gradient is the exact adjoint: the output-gradient tiles transformed by `A dY Aᵀ`,
/// 16 GEMMs with `Uᵀ`, and `B dV Bᵀ` of each tile added into a zero-bordered plane per channel
/// (all four phases of a channel interleave in it; tiles of one phase overlap by one phase
/// pixel) whose interior is the input gradient. The weight gradient is `dU[ξ] = Σ_tiles
/// (A dY Aᵀ)[ξ] · V[ξ]ᵀ` (16 GEMMs `[O, tiles] · [tiles, 4C]`) summed over the blocks of images,
/// then `dw = Gᵀ dU G` scattered back to `w[o, c, 2a + p, 2b + q]`. Workspaces, point-matrix
/// padding and threads as in ``WinogradEngine``.
enum PolyphaseWinogradEngine {
    /// Whether the geometry is one this engine computes: a 4 × 4 kernel, stride 2, padding 1.
    static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 4 && g.kernelWidth == 4 && g.stride == 2 && g.padding == 1
    }

    /// Phase channels per input channel: the four phases `(p, q)`, channel `4·c + 2·p + q`.
    static let phases = 4

    /// Tile rows and columns: `⌈Ho/3⌉ × ⌈Wo/3⌉`.
    static func tiles(_ g: ConvGeometry) -> (rows: Int, columns: Int) {
        ((g.outputHeight + 2) / 3, (g.outputWidth + 2) / 3)
    }

    /// The share of ``ConvEngine/columnBudget`` one chunk's transformed tiles may take, as
    /// ``WinogradEngine/budgetDivisor``: one image (25 tiles) per chunk on the stem's 26 × 26
    /// maps, eight (32 tiles) on its 13 × 13 maps. Measured with `laminar-bench conv` (one
    /// thread, chunks forced to 8–800 tiles): 16–50 tiles were equally fast, 8 tiles up to 1.15×
    /// slower on 13 × 13, 200 tiles 1.05–1.3× slower and 400 tiles 1.3–1.6× (presumably as the
    /// chunk's 16 `[4C, tiles]` matrices outgrow L2; not traced).
    static let budgetDivisor = 4

    /// Images per chunk: the chunk's transformed tiles of the wider side (`16·max(4C, O)·tiles`
    /// scalars) within ``ConvEngine/columnBudget`` / ``budgetDivisor``, at least one image.
    static func chunkSize(_ g: ConvGeometry, outputChannels o: Int, images: Int) -> Int {
        let (th, tw) = tiles(g)
        let perImage = WinogradTransform32.points * Swift.max(phases * g.channels, o) * th * tw
        return Swift.max(1, Swift.min(images, ConvEngine.columnBudget / (budgetDivisor * perImage)))
    }

    /// The point matrices of a block of `images` images: `[4C, tiles]` and `[O, tiles]`.
    static func workspace<S: TensorScalar>(_ g: ConvGeometry, outputChannels o: Int, images: Int, _: S.Type) -> TileWorkspace<S> {
        let (th, tw) = tiles(g)
        return TileWorkspace(points: WinogradTransform32.points, inputRows: phases * g.channels, outputRows: o,
                             chunk: chunkSize(g, outputChannels: o, images: images), perImage: th * tw)
    }

    /// Scalars between the 16 matrices `[O, 4C]` of transformed filters or their gradients:
    /// ``WinogradEngine/pointStride(_:_:)`` of `O·4C` (64 × 256 Float matrices are 64 KiB, so
    /// unpadded every point of a filter's transform would fall in one cache set).
    static func filterStride<S: TensorScalar>(outputChannels o: Int, channels c: Int, _: S.Type) -> Int {
        WinogradEngine.pointStride(o * phases * c, S.self)
    }

    /// The transformed filters `U[ξ] = G w' Gᵀ` as 16 matrices `[O, 4C]`,
    /// ``filterStride(outputChannels:channels:_:)`` apart.
    static func transformFilters<S: TensorScalar>(_ w: UnsafePointer<S>, outputChannels o: Int, channels c: Int) -> Workspace<S> {
        let k = phases * c, stride = filterStride(outputChannels: o, channels: c, S.self)
        let u = Workspace<S>(count: WinogradTransform32.points * stride)
        for oi in 0..<o {
            for ci in 0..<c {
                let filter = w + (oi * c + ci) * 16
                for p in 0..<2 {
                    for q in 0..<2 {
                        WinogradTransform32.filter(filter + 4 * p + q, rowStride: 8, columnStride: 2,
                                                   u.pointer + oi * k + phases * ci + 2 * p + q, stride: stride)
                    }
                }
            }
        }
        return u
    }

    /// `out[i, o] = Σ_c w[o, c] ⋆ x[i, c] + bias[o]` (4 × 4, stride 2, padding 1) for `n` images.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forward<S: TensorScalar>(
        x: UnsafePointer<S>, weight w: UnsafePointer<S>, bias: UnsafePointer<S>?, out: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        let k = phases * g.channels, points = WinogradTransform32.points
        let u = transformFilters(w, outputChannels: o, channels: g.channels)
        let uStride = filterStride(outputChannels: o, channels: g.channels, S.self)
        defer { u.release() }
        let outputSize = o * g.outputPixels, imageSize = g.channels * g.height * g.width
        _ = RowParallel.map(ConvEngine.imageBlocks(n)) { block in
            let (work, plane) = (workspace(g, outputChannels: o, images: block.count, S.self), PhasePlane<S>(g))
            defer { work.release(); plane.release() }
            work.forEachChunk(block, transform: { i, v, t in
                transformInput(x + i * imageSize, channels: g.channels, plane, v, leadingDimension: t, pointStride: work.inputStride)
            }) { start, images, t in
                for xi in 0..<points {
                    S.gemm(transposeA: false, transposeB: false, m: o, n: t, k: k, alpha: 1, a: u.pointer + xi * uStride, lda: k,
                           b: work.input(xi), ldb: t, beta: 0, c: work.output(xi), ldc: t)
                }
                for j in 0..<images {
                    transformOutput(work.output(0) + j * work.perImage, leadingDimension: t, pointStride: work.outputStride,
                                    channels: o, bias: bias, out + (start + j) * outputSize, g)
                }
            }
        }
    }

    /// `dx`: the gradient of ``forward(x:weight:bias:out:n:outputChannels:_:)`` with respect to
    /// its input (`dx` need not be initialised).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardInput<S: TensorScalar>(
        gradOutput dy: UnsafePointer<S>, weight w: UnsafePointer<S>, gradInput dx: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        let k = phases * g.channels, points = WinogradTransform32.points
        let u = transformFilters(w, outputChannels: o, channels: g.channels)
        let uStride = filterStride(outputChannels: o, channels: g.channels, S.self)
        defer { u.release() }
        let outputSize = o * g.outputPixels, imageSize = g.channels * g.height * g.width
        _ = RowParallel.map(ConvEngine.imageBlocks(n)) { block in
            let work = workspace(g, outputChannels: o, images: block.count, S.self)
            let (plane, gradientPlane) = (PhasePlane<S>(g), GradientPlane<S>(g))
            defer { work.release(); plane.release(); gradientPlane.release() }
            for start in stride(from: block.lowerBound, to: block.upperBound, by: work.chunk) {
                let images = Swift.min(work.chunk, block.upperBound - start), t = images * work.perImage
                for j in 0..<images {
                    transformOutputGradient(dy + (start + j) * outputSize, channels: o, gradientPlane,
                                            work.output(0) + j * work.perImage, leadingDimension: t, pointStride: work.outputStride)
                }
                for xi in 0..<points {
                    S.gemm(transposeA: true, transposeB: false, m: k, n: t, k: o, alpha: 1, a: u.pointer + xi * uStride, lda: k,
                           b: work.output(xi), ldb: t, beta: 0, c: work.input(xi), ldc: t)
                }
                for j in 0..<images {
                    transformInputAdjoint(work.input(0) + j * work.perImage, leadingDimension: t, pointStride: work.inputStride,
                                          channels: g.channels, plane, dx + (start + j) * imageSize)
                }
            }
        }
    }

    /// `dw`: the gradient of ``forward(x:weight:bias:out:n:outputChannels:_:)`` with respect to
    /// its weight (`dw` need not be initialised).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardWeight<S: TensorScalar>(
        x: UnsafePointer<S>, gradOutput dy: UnsafePointer<S>, gradWeight dw: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        let c = g.channels, k = phases * c, points = WinogradTransform32.points
        let ok = filterStride(outputChannels: o, channels: c, S.self)
        let outputSize = o * g.outputPixels, imageSize = c * g.height * g.width
        let blocks = ConvEngine.imageBlocks(n)
        // One transformed weight gradient per block, summed into the first.
        let sums = blocks.map { _ in Workspace<S>(count: points * ok) }
        defer { sums.forEach { $0.release() } }
        _ = RowParallel.map(blocks) { block in
            let du = sums[blocks.firstIndex(of: block)!].pointer
            fill(du, 0, count: points * ok)
            let work = workspace(g, outputChannels: o, images: block.count, S.self)
            let (plane, gradientPlane) = (PhasePlane<S>(g), GradientPlane<S>(g))
            defer { work.release(); plane.release(); gradientPlane.release() }
            work.forEachChunk(block, transform: { i, v, t in
                transformInput(x + i * imageSize, channels: c, plane, v, leadingDimension: t, pointStride: work.inputStride)
            }) { start, images, t in
                for j in 0..<images {
                    transformOutputGradient(dy + (start + j) * outputSize, channels: o, gradientPlane,
                                            work.output(0) + j * work.perImage, leadingDimension: t, pointStride: work.outputStride)
                }
                for xi in 0..<points {
                    S.gemm(transposeA: false, transposeB: true, m: o, n: k, k: t, alpha: 1, a: work.output(xi), lda: t,
                           b: work.input(xi), ldb: t, beta: 1, c: du + xi * ok, ldc: k)
                }
            }
        }
        let total = sums[0].pointer
        for partial in sums.dropFirst() { S.axpy(count: points * ok, alpha: 1, partial.pointer, total) }
        for oi in 0..<o {
            for ci in 0..<c {
                let filter = dw + (oi * c + ci) * 16
                for p in 0..<2 {
                    for q in 0..<2 {
                        WinogradTransform32.filterAdjoint(total + oi * k + phases * ci + 2 * p + q, stride: ok,
                                                          filter + 4 * p + q, rowStride: 8, columnStride: 2)
                    }
                }
            }
        }
    }

    /// Writes the transformed tiles `Bᵀ d B` of one image's phase channels: tile `t` of phase
    /// channel `4c + 2p + q`, point `ξ`, at `v[ξ·pointStride + (4c + 2p + q)·ld + t]`.
    @inline(__always)
    static func transformInput<S: TensorScalar>(
        _ image: UnsafePointer<S>, channels: Int, _ plane: PhasePlane<S>, _ v: UnsafeMutablePointer<S>, leadingDimension ld: Int,
        pointStride: Int
    ) {
        let (h, w, wp) = (plane.height, plane.width, plane.rowLength)
        let (th, tw) = (plane.tileRows, plane.tileColumns)
        for c in 0..<channels {
            let source = image + c * h * w
            for y in 0..<h { copyShort(plane.pointer + (y + 1) * wp + 1, from: source + y * w, count: w) }
            for phase in 0..<phases {
                let origin = plane.pointer + (phase >> 1) * wp + (phase & 1), row = v + (phases * c + phase) * ld
                for ty in 0..<th {
                    for tx in 0..<tw {
                        WinogradTransform32.input(origin + 6 * (ty * wp + tx), rowStride: 2 * wp, columnStride: 2,
                                                  row + ty * tw + tx, stride: pointStride)
                    }
                }
            }
        }
    }

    /// Writes one image's input gradient from its transformed phase gradients (tile `t` of phase
    /// channel `4c + 2p + q`, point `ξ`, at `v[ξ·pointStride + (4c + 2p + q)·ld + t]`): per
    /// channel, `B dV Bᵀ` of every tile added into the zeroed plane, whose interior is copied out.
    @inline(__always)
    static func transformInputAdjoint<S: TensorScalar>(
        _ v: UnsafePointer<S>, leadingDimension ld: Int, pointStride: Int, channels: Int, _ plane: PhasePlane<S>,
        _ dx: UnsafeMutablePointer<S>
    ) {
        let (h, w, wp) = (plane.height, plane.width, plane.rowLength)
        let (th, tw) = (plane.tileRows, plane.tileColumns)
        for c in 0..<channels {
            fill(plane.pointer, 0, count: plane.count)
            for phase in 0..<phases {
                let origin = plane.pointer + (phase >> 1) * wp + (phase & 1), row = v + (phases * c + phase) * ld
                for ty in 0..<th {
                    for tx in 0..<tw {
                        WinogradTransform32.addInputAdjoint(row + ty * tw + tx, stride: pointStride,
                                                            origin + 6 * (ty * wp + tx), rowStride: 2 * wp, columnStride: 2)
                    }
                }
            }
            let target = dx + c * h * w
            for y in 0..<h { copyShort(target + y * w, from: plane.pointer + (y + 1) * wp + 1, count: w) }
        }
    }

    /// Writes the adjoints `A dy Aᵀ` of one image's 3 × 3 output-gradient tiles (zero beyond the
    /// border): tile `t` of channel `o`, point `ξ`, at `m[ξ·pointStride + o·ld + t]`. `plane`
    /// holds `3·tileRows` rows of `3·tileColumns`, zero beyond the map.
    @inline(__always)
    static func transformOutputGradient<S: TensorScalar>(
        _ dy: UnsafePointer<S>, channels: Int, _ plane: GradientPlane<S>, _ m: UnsafeMutablePointer<S>,
        leadingDimension ld: Int, pointStride: Int
    ) {
        let (h, w, wp) = (plane.height, plane.width, plane.rowLength)
        let (th, tw) = (plane.tileRows, plane.tileColumns)
        for o in 0..<channels {
            let source = dy + o * h * w
            for y in 0..<h { copyShort(plane.pointer + y * wp, from: source + y * w, count: w) }
            let row = m + o * ld
            for ty in 0..<th {
                for tx in 0..<tw {
                    let r0 = plane.pointer + 3 * (ty * wp + tx), r1 = r0 + wp, r2 = r1 + wp
                    WinogradTransform32.outputAdjoint(((r0[0], r0[1], r0[2]), (r1[0], r1[1], r1[2]), (r2[0], r2[1], r2[2])),
                                                      row + ty * tw + tx, stride: pointStride)
                }
            }
        }
    }

    /// Writes one image's output `Aᵀ m A + bias` from its transformed products (tile `t` of
    /// channel `o`, point `ξ`, at `m[ξ·pointStride + o·ld + t]`), dropping pixels beyond the border.
    @inline(__always)
    static func transformOutput<S: TensorScalar>(
        _ m: UnsafePointer<S>, leadingDimension ld: Int, pointStride: Int, channels: Int, bias: UnsafePointer<S>?,
        _ out: UnsafeMutablePointer<S>, _ g: ConvGeometry
    ) {
        let (h, w) = (g.outputHeight, g.outputWidth), (th, tw) = tiles(g)
        for o in 0..<channels {
            let b = bias?[o] ?? 0, row = m + o * ld, plane = out + o * h * w
            for ty in 0..<th {
                let y0 = 3 * ty, rows = Swift.min(3, h - y0)
                for tx in 0..<tw {
                    let r = WinogradTransform32.output(row + ty * tw + tx, stride: pointStride)
                    let x0 = 3 * tx, p = plane + y0 * w + x0
                    if rows == 3 && x0 + 3 <= w {
                        (p[0], p[1], p[2]) = (r.0.0 + b, r.0.1 + b, r.0.2 + b)
                        (p[w], p[w + 1], p[w + 2]) = (r.1.0 + b, r.1.1 + b, r.1.2 + b)
                        (p[2 * w], p[2 * w + 1], p[2 * w + 2]) = (r.2.0 + b, r.2.1 + b, r.2.2 + b)
                        continue
                    }
                    let columns = Swift.min(3, w - x0)
                    @inline(__always) func put(_ q: UnsafeMutablePointer<S>, _ v: (S, S, S)) {
                        q[0] = v.0 + b
                        if columns > 1 { q[1] = v.1 + b }
                        if columns > 2 { q[2] = v.2 + b }
                    }
                    put(p, r.0)
                    if rows > 1 { put(p + w, r.1) }
                    if rows > 2 { put(p + 2 * w, r.2) }
                }
            }
        }
    }
}

/// A pooled copy of one channel plane zero-padded by one pixel (`xp`): the map at rows and
/// columns `1...`, zeros around it and up to the last tile's far edge (`6·tileRows + 2` rows of
/// `6·tileColumns + 2`, at least `H + 2` × `W + 2`), so that every stride-2 phase tile is read
/// (and, for the input gradient, added to) without bounds tests.
struct PhasePlane<S: TensorScalar> {
    let pointer: UnsafeMutablePointer<S>
    let height, width, rowLength, tileRows, tileColumns, count: Int
    private let storage: Workspace<S>

    init(_ g: ConvGeometry) {
        (height, width) = (g.height, g.width)
        (tileRows, tileColumns) = PolyphaseWinogradEngine.tiles(g)
        rowLength = Swift.max(6 * tileColumns + 2, width + 2)
        count = Swift.max(6 * tileRows + 2, height + 2) * rowLength
        storage = Workspace(count: count)
        pointer = storage.pointer
        fill(pointer, 0, count: count)
    }

    func release() { storage.release() }
}

/// A pooled plane of `3·tileRows` rows of `3·tileColumns` holding one output-gradient channel
/// from its origin, zero beyond the `Ho × Wo` map, so that every 3 × 3 tile is read without
/// bounds tests. Only the map is ever rewritten.
struct GradientPlane<S: TensorScalar> {
    let pointer: UnsafeMutablePointer<S>
    let height, width, rowLength, tileRows, tileColumns: Int
    private let storage: Workspace<S>

    init(_ g: ConvGeometry) {
        (height, width) = (g.outputHeight, g.outputWidth)
        (tileRows, tileColumns) = PolyphaseWinogradEngine.tiles(g)
        rowLength = 3 * tileColumns
        let count = 3 * tileRows * rowLength
        storage = Workspace(count: count)
        pointer = storage.pointer
        fill(pointer, 0, count: count)
    }

    func release() { storage.release() }
}
