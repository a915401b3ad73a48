import Foundation
import Testing
import Laminar

/// `laminar latent train --model latent-sde`, `evaluate` (RMSE and ELBO) and `plot` (with
/// posterior sample paths), on spirals and on a user CSV; usage errors name their flag.
@Suite struct LatentSDECommandTests {
    @Test func latentSDETrainEvaluateAndPlot() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/sde"
        let train = try CLI.run([
            "latent", "train", "--model", "latent-sde", "--series", "8", "--points", "10", "--test-series", "3",
            "--batch", "4", "--iters", "3", "--sde-step", "0.1", "--out", run,
        ])
        #expect(train.status == 0 && train.stdout.contains("extrapolation RMSE:"), "\(train.stderr)")
        let evaluation = try CLI.run(["latent", "evaluate", "--checkpoint", "\(run)/checkpoint.safetensors"])
        #expect(evaluation.status == 0 && evaluation.stdout.contains("test ELBO:"), "\(evaluation.stderr)")
        let plot = try CLI.run([
            "latent", "plot", "--checkpoint", "\(run)/checkpoint.safetensors", "--n", "2", "--samples", "4",
            "--out", "\(dir)/sde.png",
        ])
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(try PNG.read("\(dir)/sde.png").width > 0)

        var csv = "series_id,time,value\n"
        for s in 0..<5 { for j in 0..<8 { csv += "s\(s),\(Double(j) * 0.3),\(sin(Double(j) * 0.3 + Double(s)))\n" } }
        try csv.write(toFile: "\(dir)/series.csv", atomically: true, encoding: .utf8)
        let own = try CLI.run([
            "latent", "train", "--data", "\(dir)/series.csv", "--model", "latent-sde", "--gradient", "adjoint",
            "--method", "heun", "--iters", "2", "--batch", "3", "--sde-step", "0.1", "--out", "\(dir)/own",
        ])
        #expect(own.status == 0, "\(own.stderr)")

        for (arguments, flag) in [
            (["--method", "dopri5"], "--method"),
            (["--sde-step", "0"], "--sde-step"),
            (["--method", "euler", "--gradient", "adjoint"], "--gradient"),
            (["--poisson"], "--poisson"),
        ] {
            let result = try CLI.run(["latent", "train", "--model", "latent-sde", "--out", "\(dir)/bad"] + arguments)
            #expect(result.status == 2 && result.stderr.contains(flag), "\(arguments): \(result.stderr)")
        }
    }
}
