import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar sde`: stochastic differential equations on the shared solver core.
    struct SDE: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stochastic differential equations: fit geometric Brownian motion to sample paths.",
            subcommands: [SDEGBM.self])
    }
}

struct SDEGBM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gbm",
        abstract: "Sample GBM paths with known (μ, σ), fit (μ, σ) from a wrong start through the SDE solver, draw both.",
        discussion: "Example: laminar sde gbm --mu 0.6 --sigma 0.4 --iters 300 --out runs/gbm")

    @Option(help: "True drift μ of the data (Stratonovich form dX = μX dt + σX ∘ dW).")
    var mu: Double = 0.6
    @Option(help: "True volatility σ of the data.")
    var sigma: Double = 0.4
    @Option(help: "Observed data paths.")
    var paths: Int = 200
    @Option(help: "Observation times: this many, evenly spaced over [0, 2].")
    var times: Int = 21
    @Option(help: "Adam iterations.")
    var iters: Int = 300
    @Option(help: "Adam learning rate.")
    var lr: Double = 0.02
    @Option(help: "Gradient through the solver: backprop or adjoint.")
    var gradient: SDEGradientMethod = .backprop
    @Option(help: "Output directory (gbm.png, fit.json).")
    var out: String = "runs/gbm"
    @OptionGroup var runtime: RuntimeOptions

    var seed: UInt64 { runtime.seed(default: 0) }

    func validate() throws {
        guard mu.isFinite, Swift.abs(mu) <= 5 else { throw ValidationError("--mu must be a number in [-5, 5], got \(mu)") }
        guard sigma > 0, sigma <= 3 else { throw ValidationError("--sigma must be in (0, 3], got \(sigma)") }
        guard (2...100_000).contains(paths) else { throw ValidationError("--paths must be in 2…100000, got \(paths)") }
        guard (2...1000).contains(times) else { throw ValidationError("--times must be in 2…1000, got \(times)") }
        guard iters >= 1 else { throw ValidationError("--iters must be ≥ 1, got \(iters)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        try requireWritableDirectory(out, flag: "--out")
    }

    func run() throws {
        runtime.apply()
        let grid = (0..<times).map { 2 * Double($0) / Double(times - 1) }
        let problem = GBMFit(times: grid, gradient: gradient)
        let data = problem.sample(mu: mu, sigma: sigma, paths: paths, seed: seed)
        let start = Date()
        let history = try problem.fit(data: data, start: (mu: 0, sigma: 1), iterations: iters, learningRate: lr, seed: seed &+ 1)
        let seconds = Date().timeIntervalSince(start)
        let fitted = history[history.count - 1]
        print(String(format: "true μ %.4f σ %.4f; fitted μ %.4f σ %.4f after %d iterations (%.1f s, %@)", mu, sigma, fitted.mu, fitted.sigma, iters, seconds, gradient.rawValue))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let model = try problem.simulate(mu: fitted.mu, sigma: fitted.sigma, paths: paths, seed: seed &+ 999_983)
        let image = SDEPictures.pathPanels(
            times: grid, panels: [("data: mu \(format(mu)), sigma \(format(sigma))", data), ("fitted: mu \(format(fitted.mu)), sigma \(format(fitted.sigma))", model)])
        try PNG.write(image, to: "\(out)/gbm.png")
        let record: [String: Double] = [
            "true_mu": mu, "true_sigma": sigma, "fitted_mu": fitted.mu, "fitted_sigma": fitted.sigma,
            "iterations": Double(iters), "seconds": seconds, "final_loss": history[history.count - 2].loss,
        ]
        try writeJSON(record, to: URL(fileURLWithPath: "\(out)/fit.json"))
        note("wrote \(out)/gbm.png and \(out)/fit.json")
    }

    func format(_ x: Double) -> String { String(format: "%.3f", x) }
}

extension SDEGradientMethod: ExpressibleByArgument {}
