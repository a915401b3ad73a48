import Foundation
import Testing
import Laminar

/// `--field hollow` and `--model resflow` on the command line: bad combinations are usage
/// errors naming the flag; both models train, evaluate, sample and draw; `compare` gains
/// residual-flow rows.
@Suite(.serialized) struct HollowResidualCommandLineTests {
    @Test func badCombinationsExitWithTwoAndNameTheSetting() throws {
        let dir = try CLI.temporaryDirectory()
        let cases: [([String], String)] = [
            (["train", "--field", "dense", "--out", dir], "--field"),
            (["train", "--model", "realnvp", "--field", "hollow", "--out", dir], "--field"),
            (["train", "--field", "hollow", "--trace", "hutchinson", "--out", dir], "exact"),
            (["train", "--field", "hollow", "--residual", "--out", dir], "residual"),
            (["train", "--model", "resflow", "--lipschitz", "1.2", "--out", dir], "Lipschitz"),
            (["train", "--model", "resflow", "--logdet", "lu", "--out", dir], "log-determinant"),
            (["train", "--model", "resflow", "--terms", "0", "--out", dir], "terms"),
            (["train", "--model", "resflow", "--inverse-tol", "0", "--out", dir], "tolerance"),
            (["train", "--model", "resflow", "--trace", "hutchinson-rademacher", "--out", dir], "exact or hutchinson"),
            (["compare", "--resflow-depths", "0", "--out", dir], "--resflow-depths"),
            (["compare", "--resflow-depths", "2", "--resflow-hidden", "8-x", "--out", dir], "--resflow-hidden"),
        ]
        for (arguments, word) in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 2, "\(arguments): status \(r.status)")
            #expect(r.stderr.contains(word), "\(arguments): \(r.stderr)")
        }
    }

    @Test func hollowFieldAndResidualFlowTrainEvaluateSampleDensity() throws {
        let dir = try CLI.temporaryDirectory()
        let models: [[String]] = [
            ["--field", "hollow", "--hidden", "4-4", "--batch", "64", "--rtol", "1e-3", "--atol", "1e-3"],
            ["--model", "resflow", "--depth", "2", "--hidden", "8-8", "--batch", "64"],
        ]
        for (i, model) in models.enumerated() {
            let run = "\(dir)/run\(i)"
            let train = try CLI.run(["train", "--data", "8gaussians", "--iters", "4", "--out", run, "--no-pictures"] + model)
            #expect(train.status == 0, "\(model): \(train.stderr)")
            let checkpoint = "\(run)/checkpoint.safetensors"
            let evaluation = try CLI.run(["evaluate", "--checkpoint", checkpoint, "--n", "200"])
            #expect(evaluation.status == 0 && evaluation.stdout.contains("NLL:"), "\(model): \(evaluation.stderr)")
            let samples = try CLI.run(["sample", "--checkpoint", checkpoint, "--n", "50", "--out", "\(run)/s.csv"])
            #expect(samples.status == 0, "\(model): \(samples.stderr)")
            let density = try CLI.run(["density", "--checkpoint", checkpoint, "--resolution", "16", "--out", "\(run)/d.png"])
            #expect(density.status == 0, "\(model): \(density.stderr)")
        }
    }

    @Test func compareAddsResidualFlowRows() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run([
            "compare", "--task", "likelihood", "--targets", "8gaussians", "--depths", "1", "--widths", "1",
            "--resflow-depths", "2", "--resflow-hidden", "8-8", "--iters", "3", "--batch", "32",
            "--evaluation-samples", "100", "--resolution", "16", "--rtol", "1e-3", "--atol", "1e-3", "--out", dir,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try String(contentsOfFile: "\(dir)/results.json", encoding: .utf8)
        #expect(json.contains("\"resflow\""))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/panels.png"))
    }
}
