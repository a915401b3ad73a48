/// 3 × 3, stride 1, padding 1 convolutions by Winograd's F(2 × 2, 3 × 3) (``WinogradTransform``),
/// batched the standard way: every 4 × 4 input tile (2 × 2 output pixels, tiles overlapping by
/// two pixels) of a chunk of images is transformed once, the filters once per call, and the 16
/// points of the transformed domain are 16 independent GEMMs `[O, C] · [C, tiles]` through the
/// BLAS, 2.25× fewer multiply–adds than im2col + GEMM; the inverse transform writes the output
/// tiles with the bias added. Maps of odd extent end in partial tiles (zero input beyond the
/// border, output pixels beyond it dropped).
///
/// The input gradient is the same algorithm on the output gradient with the flipped, transposed
/// filter; the weight gradient is `dU[ξ] = Σ_tiles (A dY Aᵀ)[ξ] · V[ξ]ᵀ` (16 GEMMs `[O, tiles] ·
/// [tiles, C]`) followed by `dw = Gᵀ dU G`. Workspaces come from ``BufferPool``; blocks of images
/// run on their own threads as in ``ConvEngine``.
enum WinogradEngine {
    /// Whether the geometry is one F(2 × 2, 3 × 3) computes: a 3 × 3 kernel, stride 1, padding 1.
    static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1
    }

    /// Tile rows and columns of an `H × W` map: `⌈H/2⌉ × ⌈W/2⌉`.
    static func tiles(_ g: ConvGeometry) -> (rows: Int, columns: Int) {
        ((g.height + 1) / 2, (g.width + 1) / 2)
    }

    /// The share of ``ConvEngine/columnBudget`` one chunk's transformed tiles may take: a
    /// quarter (2¹⁷ scalars by default), so that a chunk's transformed inputs and products
    /// (≈ 1 MiB together in Float) stay in L2 between the transforms and the GEMMs. Measured
    /// with `laminar-bench conv` (one thread): against the whole budget, the CNF's 28 × 28,
    /// 14 × 14 and 7 × 7 passes ran 1.15–1.3× faster, the ODE block's up to 1.15×; an eighth
    /// was no faster, a sixteenth slower on 28 × 28 maps.
    static let budgetDivisor = 4

    /// Images per chunk: the chunk's transformed tiles of the wider side (`16·max(C, O)·tiles`
    /// scalars) within ``ConvEngine/columnBudget`` / ``budgetDivisor``, at least one image.
    static func chunkSize(_ g: ConvGeometry, outputChannels o: Int, images: Int) -> Int {
        let (th, tw) = tiles(g)
        let perImage = WinogradTransform.points * Swift.max(g.channels, o) * th * tw
        return Swift.max(1, Swift.min(images, ConvEngine.columnBudget / (budgetDivisor * perImage)))
    }

    /// The point matrices of a block of `images` images.
    static func workspace<S: TensorScalar>(_ g: ConvGeometry, outputChannels o: Int, images: Int, _: S.Type) -> TileWorkspace<S> {
        let (th, tw) = tiles(g)
        return TileWorkspace(points: WinogradTransform.points, inputRows: g.channels, outputRows: o,
                             chunk: chunkSize(g, outputChannels: o, images: images), perImage: th * tw)
    }

    /// Scalars from one transformed point's matrix to the next for matrices of `count` scalars:
    /// `count` rounded up to an odd number of 64-byte cache lines. A tile's 16 points are
    /// written (read) together, one per matrix; with an odd number of lines between matrices
    /// they fall in 16 different L1 sets. Unpadded, 32 channels × 992 tiles (the 7 × 7 maps)
    /// put the matrices exactly 31 pages apart, every point of a tile in one set: the
    /// transforms ran several times slower than on the 33-channel side of the same call.
    static func pointStride<S: TensorScalar>(_ count: Int, _: S.Type) -> Int {
        let line = Swift.max(1, 64 / MemoryLayout<S>.stride)
        return (((count + line - 1) / line) | 1) * line
    }

    /// `out[i, o] = Σ_c w[o, c] ⋆ x[i, c] + bias[o]` (3 × 3, stride 1, padding 1) for `n` images.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forward<S: TensorScalar>(
        x: UnsafePointer<S>, weight w: UnsafePointer<S>, bias: UnsafePointer<S>?, out: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        let c = g.channels, points = WinogradTransform.points, imageSize = c * g.height * g.width
        // The 16 transformed filters `[O, C]`, an odd number of cache lines apart (the same
        // set clash as ``pointStride(_:_:)`` explains for the tiles: 64 × 64 Float matrices are
        // 16 KiB, so unpadded each filter's 16 points fell in one L1 set).
        let us = pointStride(o * c, S.self)
        let u = Workspace<S>(count: points * us)
        defer { u.release() }
        for oc in 0..<o * c { WinogradTransform.filter(w + oc * 9, u.pointer + oc, stride: us) }
        let outputSize = o * g.height * g.width
        _ = RowParallel.map(ConvEngine.imageBlocks(n)) { block in
            let (work, plane) = (workspace(g, outputChannels: o, images: block.count, S.self), PaddedPlane<S>(g))
            defer { work.release(); plane.release() }
            work.forEachChunk(block, transform: { i, v, t in
                transformInput(x + i * imageSize, channels: c, plane, v, leadingDimension: t, pointStride: work.inputStride)
            }) { start, images, t in
                for xi in 0..<points {
                    S.gemm(transposeA: false, transposeB: false, m: o, n: t, k: c, alpha: 1, a: u.pointer + xi * us, lda: c,
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
    /// its input, the same convolution of `dy` with `w'[c, o] = flip(w[o, c])` (`dx` need not be
    /// initialised).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardInput<S: TensorScalar>(
        gradOutput dy: UnsafePointer<S>, weight w: UnsafePointer<S>, gradInput dx: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        let c = g.channels
        let flipped = Workspace<S>(count: c * o * 9)
        defer { flipped.release() }
        for oi in 0..<o {
            for ci in 0..<c {
                let src = w + (oi * c + ci) * 9, dst = flipped.pointer + (ci * o + oi) * 9
                for tap in 0..<9 { dst[tap] = src[8 - tap] }
            }
        }
        var transposed = g
        transposed.channels = o
        forward(x: dy, weight: flipped.pointer, bias: nil, out: dx, n: n, outputChannels: c, transposed)
    }

    /// `dw`: the gradient of ``forward(x:weight:bias:out:n:outputChannels:_:)`` with respect to
    /// its weight (`dw` need not be initialised).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardWeight<S: TensorScalar>(
        x: UnsafePointer<S>, gradOutput dy: UnsafePointer<S>, gradWeight dw: UnsafeMutablePointer<S>,
        n: Int, outputChannels o: Int, _ g: ConvGeometry
    ) {
        let c = g.channels, points = WinogradTransform.points, oc = o * c, ds = pointStride(oc, S.self)
        let outputSize = o * g.height * g.width, imageSize = c * g.height * g.width
        let blocks = ConvEngine.imageBlocks(n)
        // One transformed weight gradient per block, summed into the first.
        let sums = blocks.map { _ in Workspace<S>(count: points * ds) }
        defer { sums.forEach { $0.release() } }
        _ = RowParallel.map(blocks) { block in
            let du = sums[blocks.firstIndex(of: block)!].pointer
            fill(du, 0, count: points * ds)
            let (work, plane) = (workspace(g, outputChannels: o, images: block.count, S.self), PaddedPlane<S>(g))
            defer { work.release(); plane.release() }
            work.forEachChunk(block, transform: { i, v, t in
                transformInput(x + i * imageSize, channels: c, plane, v, leadingDimension: t, pointStride: work.inputStride)
            }) { start, images, t in
                for j in 0..<images {
                    transformOutputGradient(dy + (start + j) * outputSize, channels: o, plane,
                                            work.output(0) + j * work.perImage, leadingDimension: t, pointStride: work.outputStride)
                }
                for xi in 0..<points {
                    S.gemm(transposeA: false, transposeB: true, m: o, n: c, k: t, alpha: 1, a: work.output(xi), lda: t,
                           b: work.input(xi), ldb: t, beta: 1, c: du + xi * ds, ldc: c)
                }
            }
        }
        for partial in sums.dropFirst() { S.axpy(count: points * ds, alpha: 1, partial.pointer, sums[0].pointer) }
        for k in 0..<oc { WinogradTransform.filterAdjoint(sums[0].pointer + k, dw + k * 9, stride: ds) }
    }

    /// Writes the transformed tiles `Bᵀ d B` of one image's channels: tile `t` of channel `c`,
    /// point `ξ`, at `v[ξ·pointStride + c·ld + t]`.
    @inline(__always)
    static func transformInput<S: TensorScalar>(
        _ image: UnsafePointer<S>, channels: Int, _ plane: PaddedPlane<S>, _ v: UnsafeMutablePointer<S>, leadingDimension ld: Int,
        pointStride: Int
    ) {
        let (h, w, wp) = (plane.height, plane.width, plane.rowLength)
        let (th, tw) = (plane.tileRows, plane.tileColumns)
        for c in 0..<channels {
            let source = image + c * h * w
            for y in 0..<h { copyShort(plane.pointer + (y + 1) * wp + 1, from: source + y * w, count: w) }
            let row = v + c * ld
            for ty in 0..<th {
                for tx in 0..<tw {
                    WinogradTransform.input(plane.pointer + 2 * (ty * wp + tx), rowLength: wp, row + ty * tw + tx, stride: pointStride)
                }
            }
        }
    }

    /// Writes the adjoints `A dy Aᵀ` of one image's 2 × 2 output-gradient tiles (zero beyond the
    /// border of odd maps): tile `t` of channel `o`, point `ξ`, at `m[ξ·pointStride + o·ld + t]`.
    @inline(__always)
    static func transformOutputGradient<S: TensorScalar>(
        _ dy: UnsafePointer<S>, channels: Int, _ plane: PaddedPlane<S>, _ m: UnsafeMutablePointer<S>,
        leadingDimension ld: Int, pointStride: Int
    ) {
        let (h, w, wp) = (plane.height, plane.width, plane.rowLength)
        let (th, tw) = (plane.tileRows, plane.tileColumns)
        for o in 0..<channels {
            // The plane's interior from (1, 1) holds the map, zero to its right and below.
            let source = dy + o * h * w, origin = plane.pointer + wp + 1
            for y in 0..<h { copyShort(origin + y * wp, from: source + y * w, count: w) }
            let row = m + o * ld
            for ty in 0..<th {
                for tx in 0..<tw {
                    let p = origin + 2 * (ty * wp + tx)
                    WinogradTransform.outputAdjoint((p[0], p[1], p[wp], p[wp + 1]), row + ty * tw + tx, stride: pointStride)
                }
            }
        }
    }

    /// Writes one image's output `Aᵀ m A + bias` from its transformed products (tile `t` of
    /// channel `o`, point `ξ`, at `m[ξ·pointStride + o·ld + t]`), dropping pixels beyond odd borders.
    @inline(__always)
    static func transformOutput<S: TensorScalar>(
        _ m: UnsafePointer<S>, leadingDimension ld: Int, pointStride: Int, channels: Int, bias: UnsafePointer<S>?,
        _ out: UnsafeMutablePointer<S>, _ g: ConvGeometry
    ) {
        let (h, w) = (g.height, g.width), (th, tw) = tiles(g)
        for o in 0..<channels {
            let b = bias?[o] ?? 0, row = m + o * ld, plane = out + o * h * w
            for ty in 0..<th {
                let y0 = 2 * ty, lower = y0 + 1 < h
                for tx in 0..<tw {
                    let r = WinogradTransform.output(row + ty * tw + tx, stride: pointStride)
                    let x0 = 2 * tx, right = x0 + 1 < w, p = plane + y0 * w + x0
                    p[0] = r.0 + b
                    if right { p[1] = r.1 + b }
                    if lower {
                        p[w] = r.2 + b
                        if right { p[w + 1] = r.3 + b }
                    }
                }
            }
        }
    }
}

/// The pooled point matrices of one block of images, for both Winograd engines: a chunk's
/// transformed input tiles (one matrix `[rows, tiles]` per point: the input channels, or the
/// 4C phase channels of ``PolyphaseWinogradEngine``) and its transformed products or output
/// gradients (one `[O, tiles]` per point), matrices ``WinogradEngine/pointStride(_:_:)`` apart.
struct TileWorkspace<S: TensorScalar> {
    /// Images per chunk and tiles per image.
    let chunk, perImage: Int
    /// Scalars between consecutive points' matrices of ``input(_:)`` and ``output(_:)``.
    let inputStride, outputStride: Int
    private let inputs, outputs: Workspace<S>

    init(points: Int, inputRows: Int, outputRows: Int, chunk: Int, perImage: Int) {
        (self.chunk, self.perImage) = (chunk, perImage)
        inputStride = WinogradEngine.pointStride(inputRows * chunk * perImage, S.self)
        outputStride = WinogradEngine.pointStride(outputRows * chunk * perImage, S.self)
        inputs = Workspace(count: points * inputStride)
        outputs = Workspace(count: points * outputStride)
    }

    /// Point `ξ`'s matrix of transformed input tiles, `[rows, tiles]`.
    func input(_ xi: Int) -> UnsafeMutablePointer<S> { inputs.pointer + xi * inputStride }

    /// Point `ξ`'s matrix of transformed products or output gradients, `[O, tiles]`.
    func output(_ xi: Int) -> UnsafeMutablePointer<S> { outputs.pointer + xi * outputStride }

    /// Runs `body(start, images, tiles)` for the chunks of `block`, each after
    /// `transform(image, destination, tiles)` has written every image's transformed tiles
    /// (image `start + j` at `input(0) + j·perImage`, leading dimension `tiles`).
    @inline(__always)
    func forEachChunk(
        _ block: Range<Int>, transform: (_ image: Int, _ destination: UnsafeMutablePointer<S>, _ tiles: Int) -> Void,
        _ body: (_ start: Int, _ images: Int, _ tiles: Int) -> Void
    ) {
        for start in stride(from: block.lowerBound, to: block.upperBound, by: chunk) {
            let images = Swift.min(chunk, block.upperBound - start), t = images * perImage
            for j in 0..<images { transform(start + j, input(0) + j * perImage, t) }
            body(start, images, t)
        }
    }

    func release() {
        inputs.release()
        outputs.release()
    }
}

/// A pooled, zero-bordered copy of one channel plane: the map at rows and columns `1...`, zeros
/// around it and up to the last tile's far edge (`2·⌈H/2⌉ + 2` rows of `2·⌈W/2⌉ + 2`), so that
/// every 4 × 4 input tile is read without bounds tests. Only the interior is ever rewritten, so
/// the border is zeroed once.
struct PaddedPlane<S: TensorScalar> {
    let pointer: UnsafeMutablePointer<S>
    let height, width, rowLength, tileRows, tileColumns: Int
    private let storage: Workspace<S>

    init(_ g: ConvGeometry) {
        (height, width) = (g.height, g.width)
        (tileRows, tileColumns) = WinogradEngine.tiles(g)
        rowLength = 2 * tileColumns + 2
        let count = (2 * tileRows + 2) * rowLength
        storage = Workspace(count: count)
        pointer = storage.pointer
        fill(pointer, 0, count: count)
    }

    func release() { storage.release() }
}
