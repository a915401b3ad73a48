/// The transforms of Winograd's minimal filtering algorithm F(2 × 2, 3 × 3) (Lavin & Gray 2016):
/// a 2 × 2 output tile of a 3 × 3 cross-correlation is `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for a 4 × 4
/// input tile `d`, with
///
///     Bᵀ = ⎡1  0 −1  0⎤    G = ⎡ 1    0    0 ⎤    Aᵀ = ⎡1 1  1  0⎤
///          ⎢0  1  1  0⎥        ⎢1/2  1/2  1/2⎥         ⎣0 1 −1 −1⎦
///          ⎢0 −1  1  0⎥        ⎢1/2 −1/2  1/2⎥
///          ⎣0  1  0 −1⎦        ⎣ 0    0    1 ⎦
///
/// Each function applies one of them (or an adjoint) to the rows and then the columns of a
/// tile; tiles are 16 scalars in row-major order (`ξ = 4·row + column`).
enum WinogradTransform {
    /// Tile edge of the transformed domain (input tile 4 × 4 for a 2 × 2 output tile).
    static let alpha = 4
    /// Entries of a transformed tile: the number of products per tile and pair of channels.
    static let points = 16

    /// `Bᵀ v` for a 4-vector.
    @inline(__always)
    static func inputVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S, S, S) {
        (v.0 - v.2, v.1 + v.2, v.2 - v.1, v.1 - v.3)
    }

    /// `Aᵀ v` for a 4-vector.
    @inline(__always)
    static func outputVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S) {
        (v.0 + v.1 + v.2, v.1 - v.2 - v.3)
    }

    /// `A v` for a 2-vector: the adjoint of ``outputVector(_:)``.
    @inline(__always)
    static func outputAdjointVector<S: TensorScalar>(_ v: (S, S)) -> (S, S, S, S) {
        (v.0, v.0 + v.1, v.0 - v.1, -v.1)
    }

    /// `G v` for a 3-vector.
    @inline(__always)
    static func filterVector<S: TensorScalar>(_ v: (S, S, S)) -> (S, S, S, S) {
        let half: S = 0.5
        let outer = v.0 + v.2
        return (v.0, half * (outer + v.1), half * (outer - v.1), v.2)
    }

    /// `Gᵀ v` for a 4-vector: the adjoint of ``filterVector(_:)``.
    @inline(__always)
    static func filterAdjointVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S, S) {
        let half: S = 0.5
        let inner = half * (v.1 + v.2)
        return (v.0 + inner, half * (v.1 - v.2), inner + v.3)
    }

    /// `V = Bᵀ d B` of the 4 × 4 tile whose rows start at `d`, `rowLength` apart; entry `ξ` is
    /// written to `v[ξ·stride]`.
    @inline(__always)
    static func input<S: TensorScalar>(_ d: UnsafePointer<S>, rowLength: Int, _ v: UnsafeMutablePointer<S>, stride: Int) {
        let r0 = d, r1 = d + rowLength, r2 = r1 + rowLength, r3 = r2 + rowLength
        // Rows: t = Bᵀ d, one column of d at a time.
        let c0 = inputVector((r0[0], r1[0], r2[0], r3[0])), c1 = inputVector((r0[1], r1[1], r2[1], r3[1]))
        let c2 = inputVector((r0[2], r1[2], r2[2], r3[2])), c3 = inputVector((r0[3], r1[3], r2[3], r3[3]))
        // Columns: V = t B, one row of t at a time.
        store(inputVector((c0.0, c1.0, c2.0, c3.0)), v, stride: stride, row: 0)
        store(inputVector((c0.1, c1.1, c2.1, c3.1)), v, stride: stride, row: 1)
        store(inputVector((c0.2, c1.2, c2.2, c3.2)), v, stride: stride, row: 2)
        store(inputVector((c0.3, c1.3, c2.3, c3.3)), v, stride: stride, row: 3)
    }

    /// `Aᵀ m A` of the tile whose entry `ξ` is `m[ξ·stride]`: the 2 × 2 output tile, row-major.
    @inline(__always)
    static func output<S: TensorScalar>(_ m: UnsafePointer<S>, stride: Int) -> (S, S, S, S) {
        @inline(__always) func column(_ j: Int) -> (S, S) {
            outputVector((m[j * stride], m[(4 + j) * stride], m[(8 + j) * stride], m[(12 + j) * stride]))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        let top = outputVector((c0.0, c1.0, c2.0, c3.0)), bottom = outputVector((c0.1, c1.1, c2.1, c3.1))
        return (top.0, top.1, bottom.0, bottom.1)
    }

    /// `A y Aᵀ` of a 2 × 2 tile `y` (row-major): the adjoint of ``output(_:stride:)``, entry `ξ`
    /// written to `m[ξ·stride]`.
    @inline(__always)
    static func outputAdjoint<S: TensorScalar>(_ y: (S, S, S, S), _ m: UnsafeMutablePointer<S>, stride: Int) {
        let c0 = outputAdjointVector((y.0, y.2)), c1 = outputAdjointVector((y.1, y.3))
        store(outputAdjointVector((c0.0, c1.0)), m, stride: stride, row: 0)
        store(outputAdjointVector((c0.1, c1.1)), m, stride: stride, row: 1)
        store(outputAdjointVector((c0.2, c1.2)), m, stride: stride, row: 2)
        store(outputAdjointVector((c0.3, c1.3)), m, stride: stride, row: 3)
    }

    /// `U = G g Gᵀ` of the 3 × 3 filter `g` (row-major), entry `ξ` written to `u[ξ·stride]`.
    @inline(__always)
    static func filter<S: TensorScalar>(_ g: UnsafePointer<S>, _ u: UnsafeMutablePointer<S>, stride: Int) {
        let c0 = filterVector((g[0], g[3], g[6])), c1 = filterVector((g[1], g[4], g[7])), c2 = filterVector((g[2], g[5], g[8]))
        store(filterVector((c0.0, c1.0, c2.0)), u, stride: stride, row: 0)
        store(filterVector((c0.1, c1.1, c2.1)), u, stride: stride, row: 1)
        store(filterVector((c0.2, c1.2, c2.2)), u, stride: stride, row: 2)
        store(filterVector((c0.3, c1.3, c2.3)), u, stride: stride, row: 3)
    }

    /// `Gᵀ u G` of the tile whose entry `ξ` is `u[ξ·stride]`: the adjoint of
    /// ``filter(_:_:stride:)``, a 3 × 3 filter written row-major to `g`.
    @inline(__always)
    static func filterAdjoint<S: TensorScalar>(_ u: UnsafePointer<S>, _ g: UnsafeMutablePointer<S>, stride: Int) {
        @inline(__always) func column(_ j: Int) -> (S, S, S) {
            filterAdjointVector((u[j * stride], u[(4 + j) * stride], u[(8 + j) * stride], u[(12 + j) * stride]))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        let r0 = filterAdjointVector((c0.0, c1.0, c2.0, c3.0))
        let r1 = filterAdjointVector((c0.1, c1.1, c2.1, c3.1))
        let r2 = filterAdjointVector((c0.2, c1.2, c2.2, c3.2))
        (g[0], g[1], g[2]) = r0
        (g[3], g[4], g[5]) = r1
        (g[6], g[7], g[8]) = r2
    }

    /// Writes row `row` of a transformed tile: entries `4·row + j` at `t[(4·row + j)·stride]`.
    @inline(__always)
    static func store<S: TensorScalar>(_ r: (S, S, S, S), _ t: UnsafeMutablePointer<S>, stride: Int, row: Int) {
        let base = t + 4 * row * stride
        base[0] = r.0
        base[stride] = r.1
        base[2 * stride] = r.2
        base[3 * stride] = r.3
    }
}

/// The transforms of Winograd's minimal filtering algorithm F(3 × 3, 2 × 2) (interpolation
/// points 0, 1, −1, ∞): a 3 × 3 output tile of a 2 × 2 valid cross-correlation is
/// `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for a 4 × 4 input tile `d`, with
///
///     Bᵀ = ⎡1  0 −1  0⎤    G = ⎡ 1    0  ⎤    Aᵀ = ⎡1 1  1 0⎤
///          ⎢0  1  1  0⎥        ⎢1/2  1/2 ⎥         ⎢0 1 −1 0⎥
///          ⎢0 −1  1  0⎥        ⎢1/2 −1/2 ⎥         ⎣0 1  1 1⎦
///          ⎣0 −1  0  1⎦        ⎣ 0    1  ⎦
///
/// ``PolyphaseWinogradEngine`` runs 4 × 4 stride-2 convolutions as 2 × 2 valid ones over their
/// four phases with it. Same conventions as ``WinogradTransform``: the row transform, then the
/// column transform; transformed tiles are 16 scalars, `ξ = 4·row + column`, `stride` apart.
enum WinogradTransform32 {
    /// Entries of a transformed tile (input tile 4 × 4 for a 3 × 3 output tile).
    static let points = 16
    /// Edge of an output tile.
    static let outputTile = 3

    /// `Bᵀ v` for a 4-vector.
    @inline(__always)
    static func inputVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S, S, S) {
        (v.0 - v.2, v.1 + v.2, v.2 - v.1, v.3 - v.1)
    }

    /// `B v` for a 4-vector: the adjoint of ``inputVector(_:)``.
    @inline(__always)
    static func inputAdjointVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S, S, S) {
        (v.0, v.1 - v.2 - v.3, v.1 + v.2 - v.0, v.3)
    }

    /// `Aᵀ v` for a 4-vector.
    @inline(__always)
    static func outputVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S, S) {
        let sum = v.1 + v.2
        return (v.0 + sum, v.1 - v.2, sum + v.3)
    }

    /// `A v` for a 3-vector: the adjoint of ``outputVector(_:)``.
    @inline(__always)
    static func outputAdjointVector<S: TensorScalar>(_ v: (S, S, S)) -> (S, S, S, S) {
        let outer = v.0 + v.2
        return (v.0, outer + v.1, outer - v.1, v.2)
    }

    /// `G v` for a 2-vector.
    @inline(__always)
    static func filterVector<S: TensorScalar>(_ v: (S, S)) -> (S, S, S, S) {
        let half: S = 0.5
        return (v.0, half * (v.0 + v.1), half * (v.0 - v.1), v.1)
    }

    /// `Gᵀ v` for a 4-vector: the adjoint of ``filterVector(_:)``.
    @inline(__always)
    static func filterAdjointVector<S: TensorScalar>(_ v: (S, S, S, S)) -> (S, S) {
        let half: S = 0.5
        return (v.0 + half * (v.1 + v.2), half * (v.1 - v.2) + v.3)
    }

    /// `V = Bᵀ d B` of the 4 × 4 tile with entry `(s, r)` at `d[s·rowStride + r·columnStride]`;
    /// entry `ξ` is written to `v[ξ·stride]`.
    @inline(__always)
    static func input<S: TensorScalar>(
        _ d: UnsafePointer<S>, rowStride: Int, columnStride cs: Int, _ v: UnsafeMutablePointer<S>, stride: Int
    ) {
        let r0 = d, r1 = d + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride
        // Rows: t = Bᵀ d, one column of d at a time.
        let c0 = inputVector((r0[0], r1[0], r2[0], r3[0])), c1 = inputVector((r0[cs], r1[cs], r2[cs], r3[cs]))
        let c2 = inputVector((r0[2 * cs], r1[2 * cs], r2[2 * cs], r3[2 * cs]))
        let c3 = inputVector((r0[3 * cs], r1[3 * cs], r2[3 * cs], r3[3 * cs]))
        // Columns: V = t B, one row of t at a time.
        WinogradTransform.store(inputVector((c0.0, c1.0, c2.0, c3.0)), v, stride: stride, row: 0)
        WinogradTransform.store(inputVector((c0.1, c1.1, c2.1, c3.1)), v, stride: stride, row: 1)
        WinogradTransform.store(inputVector((c0.2, c1.2, c2.2, c3.2)), v, stride: stride, row: 2)
        WinogradTransform.store(inputVector((c0.3, c1.3, c2.3, c3.3)), v, stride: stride, row: 3)
    }

    /// Adds `B v Bᵀ` of the tile whose entry `ξ` is `v[ξ·stride]` (the adjoint of
    /// ``input(_:rowStride:columnStride:_:stride:)``) to the 4 × 4 tile with entry `(s, r)` at
    /// `d[s·rowStride + r·columnStride]`.
    @inline(__always)
    static func addInputAdjoint<S: TensorScalar>(
        _ v: UnsafePointer<S>, stride: Int, _ d: UnsafeMutablePointer<S>, rowStride: Int, columnStride cs: Int
    ) {
        @inline(__always) func column(_ j: Int) -> (S, S, S, S) {
            inputAdjointVector((v[j * stride], v[(4 + j) * stride], v[(8 + j) * stride], v[(12 + j) * stride]))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        @inline(__always) func add(_ r: (S, S, S, S), row: Int) {
            let p = d + row * rowStride
            p[0] += r.0
            p[cs] += r.1
            p[2 * cs] += r.2
            p[3 * cs] += r.3
        }
        add(inputAdjointVector((c0.0, c1.0, c2.0, c3.0)), row: 0)
        add(inputAdjointVector((c0.1, c1.1, c2.1, c3.1)), row: 1)
        add(inputAdjointVector((c0.2, c1.2, c2.2, c3.2)), row: 2)
        add(inputAdjointVector((c0.3, c1.3, c2.3, c3.3)), row: 3)
    }

    /// `Aᵀ m A` of the tile whose entry `ξ` is `m[ξ·stride]`: the 3 × 3 output tile by rows.
    @inline(__always)
    static func output<S: TensorScalar>(_ m: UnsafePointer<S>, stride: Int) -> ((S, S, S), (S, S, S), (S, S, S)) {
        @inline(__always) func column(_ j: Int) -> (S, S, S) {
            outputVector((m[j * stride], m[(4 + j) * stride], m[(8 + j) * stride], m[(12 + j) * stride]))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        return (outputVector((c0.0, c1.0, c2.0, c3.0)), outputVector((c0.1, c1.1, c2.1, c3.1)),
                outputVector((c0.2, c1.2, c2.2, c3.2)))
    }

    /// `A y Aᵀ` of a 3 × 3 tile `y` given by rows: the adjoint of ``output(_:stride:)``, entry `ξ`
    /// written to `m[ξ·stride]`.
    @inline(__always)
    static func outputAdjoint<S: TensorScalar>(_ y: ((S, S, S), (S, S, S), (S, S, S)), _ m: UnsafeMutablePointer<S>, stride: Int) {
        let c0 = outputAdjointVector((y.0.0, y.1.0, y.2.0)), c1 = outputAdjointVector((y.0.1, y.1.1, y.2.1))
        let c2 = outputAdjointVector((y.0.2, y.1.2, y.2.2))
        WinogradTransform.store(outputAdjointVector((c0.0, c1.0, c2.0)), m, stride: stride, row: 0)
        WinogradTransform.store(outputAdjointVector((c0.1, c1.1, c2.1)), m, stride: stride, row: 1)
        WinogradTransform.store(outputAdjointVector((c0.2, c1.2, c2.2)), m, stride: stride, row: 2)
        WinogradTransform.store(outputAdjointVector((c0.3, c1.3, c2.3)), m, stride: stride, row: 3)
    }

    /// `U = G g Gᵀ` of the 2 × 2 filter with entry `(a, b)` at `g[a·rowStride + b·columnStride]`,
    /// entry `ξ` written to `u[ξ·stride]`.
    @inline(__always)
    static func filter<S: TensorScalar>(
        _ g: UnsafePointer<S>, rowStride: Int, columnStride cs: Int, _ u: UnsafeMutablePointer<S>, stride: Int
    ) {
        let c0 = filterVector((g[0], g[rowStride])), c1 = filterVector((g[cs], g[rowStride + cs]))
        WinogradTransform.store(filterVector((c0.0, c1.0)), u, stride: stride, row: 0)
        WinogradTransform.store(filterVector((c0.1, c1.1)), u, stride: stride, row: 1)
        WinogradTransform.store(filterVector((c0.2, c1.2)), u, stride: stride, row: 2)
        WinogradTransform.store(filterVector((c0.3, c1.3)), u, stride: stride, row: 3)
    }

    /// `Gᵀ u G` of the tile whose entry `ξ` is `u[ξ·stride]` (the adjoint of
    /// ``filter(_:rowStride:columnStride:_:stride:)``), written to the 2 × 2 filter with entry
    /// `(a, b)` at `g[a·rowStride + b·columnStride]`.
    @inline(__always)
    static func filterAdjoint<S: TensorScalar>(
        _ u: UnsafePointer<S>, stride: Int, _ g: UnsafeMutablePointer<S>, rowStride: Int, columnStride cs: Int
    ) {
        @inline(__always) func column(_ j: Int) -> (S, S) {
            filterAdjointVector((u[j * stride], u[(4 + j) * stride], u[(8 + j) * stride], u[(12 + j) * stride]))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        let r0 = filterAdjointVector((c0.0, c1.0, c2.0, c3.0)), r1 = filterAdjointVector((c0.1, c1.1, c2.1, c3.1))
        g[0] = r0.0
        g[cs] = r0.1
        g[rowStride] = r1.0
        g[rowStride + cs] = r1.1
    }
}
