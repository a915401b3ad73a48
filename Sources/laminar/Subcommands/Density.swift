import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar density`: the model's density on a grid as a colour-mapped picture.
    struct Density: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a trained 2-D model's density (exact trace), next to the data's true density where known.")

        @Option(help: "Checkpoint written by laminar train.")
        var checkpoint: String

        @Option(help: "Output PNG.")
        var out: String = "density.png"

        @Option(help: "Grid points per axis.")
        var resolution: Int = 100

        @Option(help: "Plot range [-r, r]².")
        var range: Double = 4

        @Option(help: "BLAS threads.")
        var threads: Int = 1

        func validate() throws {
            guard resolution >= 8, resolution <= 1_000 else {
                throw ValidationError("--resolution must be in 8…1000, got \(resolution)")
            }
            guard range > 0 else { throw ValidationError("--range must be > 0") }
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw ValidationError("--checkpoint: no file at \(checkpoint)")
            }
            try requireWritableParent(of: out, flag: "--out")
        }

        func run() throws {
            BLASThreads.set(threads)
            let (flow, _, metadata) = try ModelStore.load(from: URL(fileURLWithPath: checkpoint))
            guard flow.dimension == 2 else { throw LaminarCLIError("density maps need a 2-D model") }
            let grid = try DensityGrid.evaluate(flow, low: -range, high: range, resolution: resolution)
            let toy = metadata["data"].flatMap(ToyDataset.init(rawValue:))
            try Pictures.writeDensity(grid, truth: toy, path: out)
            note(String(format: "wrote %@ (mass on the grid %.4f, NFE %d)", out, grid.totalMass, grid.nfe))
        }
    }
}
