import Foundation
import LaminarAutodiff

/// A model's log-density on a regular 2-D grid, for density maps and normalization checks.
public struct DensityGrid: Sendable {
    /// Grid points per axis.
    public var resolution: Int
    /// Lower end of the plotting range on both axes (the square `[low, high]²`).
    public var low: Double
    /// Upper end of the plotting range on both axes.
    public var high: Double
    /// `logDensity[r * resolution + c]` at `x = center(c)`, `y = center(resolution − 1 − r)`:
    /// row 0 is the top of the picture (largest y).
    public var logDensity: [Double]
    /// Function evaluations spent.
    public var nfe: Int

    /// Width of one cell.
    public var cellSize: Double { (high - low) / Double(resolution) }

    /// Coordinate of the centre of cell `i` along an axis.
    public func center(_ i: Int) -> Double { low + (Double(i) + 0.5) * cellSize }

    /// `∫ p ≈ Σ p(cell centre) · cell area` (midpoint rule).
    public var totalMass: Double {
        logDensity.reduce(0) { $0 + Foundation.exp($1) } * cellSize * cellSize
    }

    /// Evaluates `log p` of a 2-D flow at the cell centres, in batches, with the exact trace.
    public static func evaluate<F: Flow>(
        _ flow: F, low: Double = -4, high: Double = 4, resolution: Int = 100, batchSize: Int = 2_500
    ) throws -> DensityGrid {
        precondition(flow.dimension == 2, "DensityGrid: needs a 2-D flow")
        var grid = DensityGrid(resolution: resolution, low: low, high: high, logDensity: [], nfe: 0)
        var points: [F.Scalar] = []
        points.reserveCapacity(resolution * resolution * 2)
        for r in 0..<resolution {
            for c in 0..<resolution {
                points.append(F.Scalar(grid.center(c)))
                points.append(F.Scalar(grid.center(resolution - 1 - r)))
            }
        }
        let total = resolution * resolution
        var values: [Double] = []
        values.reserveCapacity(total)
        var start = 0
        while start < total {
            let n = Swift.min(batchSize, total - start)
            let batch = Tensor(shape: [n, 2], scalars: Array(points[(2 * start)..<(2 * (start + n))]))
            let (logp, nfe) = try withoutGradient { () throws -> (Tensor<F.Scalar>, Int) in
                let out = try flow.forward(Variable(batch))
                return (nanToNegativeInfinity(standardNormalLogDensity(out.value) + out.logDeterminant).value, out.nfe)
            }
            values += logp.scalars.map(Double.init)
            grid.nfe += nfe
            start += n
        }
        grid.logDensity = values
        return grid
    }

    /// The same grid for a known log-density function (the data's true density).
    public static func tabulate(
        low: Double = -4, high: Double = 4, resolution: Int = 100, _ logDensity: (Double, Double) -> Double
    ) -> DensityGrid {
        var grid = DensityGrid(resolution: resolution, low: low, high: high, logDensity: [], nfe: 0)
        for r in 0..<resolution {
            for c in 0..<resolution {
                grid.logDensity.append(logDensity(grid.center(c), grid.center(resolution - 1 - r)))
            }
        }
        return grid
    }
}
