import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar evaluate`: test negative log-likelihood with the exact trace.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report the negative log-likelihood (nats) of a trained model on fresh test data, exact trace.")

        @Option(help: "Checkpoint written by laminar train.")
        var checkpoint: String

        @Option(help: "Data to evaluate on (default: the data the model was trained on; toy sets draw fresh samples).")
        var data: String?

        @Option(help: "Number of fresh test samples for toy data.")
        var n: Int = 5_000

        @Option(help: "Seed of the test samples.")
        var seed: UInt64 = 12_345

        @Option(help: "BLAS threads.")
        var threads: Int = 1

        func validate() throws {
            guard n >= 1 else { throw ValidationError("--n must be ≥ 1, got \(n)") }
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw ValidationError("--checkpoint: no file at \(checkpoint)")
            }
        }

        func run() throws {
            BLASThreads.set(threads)
            let (flow, _, metadata) = try ModelStore.load(from: URL(fileURLWithPath: checkpoint))
            let dataName = data ?? metadata["data"] ?? "checkerboard"
            let points: Tensor<Float>
            if let toy = ToyDataset(rawValue: dataName) {
                var rng = RandomGenerator(seed: seed)
                points = toy.sample(n, using: &rng)
            } else {
                points = Tensor<Float>(try PointsFile.load(path: dataName))
            }
            guard points.shape[1] == flow.dimension else {
                throw LaminarCLIError("--data has \(points.shape[1]) columns but the model expects \(flow.dimension)")
            }
            let start = Date()
            let result = try Evaluation.negativeLogLikelihood(flow, points: points)
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "NLL: %.4f nats", result.nll))
            print(String(format: "standard error: %.4f", result.standardError))
            print("points: \(points.shape[0]) (\(dataName))")
            print("NFE: \(result.nfe)")
            print(String(format: "time: %.2f s", seconds))
        }
    }
}
