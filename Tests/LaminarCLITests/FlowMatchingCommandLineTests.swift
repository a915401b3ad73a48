import Foundation
import Testing
import Laminar

/// `laminar train --objective flow-matching` and `laminar sample --solver/--steps`: exit codes
/// of bad combinations, and a flow-matching checkpoint going through evaluate and sample.
@Suite(.serialized) struct FlowMatchingCommandLineTests {
    @Test func badCombinationsAreUsageErrorsNamingTheFlag() throws {
        let dir = try CLI.temporaryDirectory()
        let fm = ["train", "--objective", "flow-matching", "--iters", "2", "--out", "\(dir)/run"]
        let cases: [([String], String)] = [
            (fm + ["--coupling", "reflow"], "--teacher"),
            (fm + ["--coupling", "hungarian"], "--coupling"),
            (fm + ["--path", "linear"], "--path"),
            (fm + ["--sigma-min", "1.5"], "--sigma-min"),
            (fm + ["--coupling", "sinkhorn", "--ot-reg", "0"], "--ot-reg"),
            (fm + ["--coupling", "reflow", "--teacher", "\(dir)/none.safetensors"], "--teacher"),
            (fm + ["--teacher", "\(dir)/none.safetensors"], "--teacher"),
            (fm + ["--model", "realnvp"], "--objective likelihood"),
            (fm + ["--blocks", "2"], "--blocks 1"),
            (["train", "--objective", "score-matching", "--out", "\(dir)/run"], "--objective"),
            (["train", "--coupling", "ot", "--out", "\(dir)/run"], "--objective flow-matching"),
            (["sample", "--checkpoint", "\(dir)/none.safetensors", "--solver", "rk4"], "--steps"),
            (["sample", "--checkpoint", "\(dir)/none.safetensors", "--solver", "rk45"], "--solver"),
            (["sample", "--checkpoint", "\(dir)/none.safetensors", "--solver", "dopri5", "--rtol=-1"], "--rtol"),
            (["sample", "--checkpoint", "\(dir)/none.safetensors", "--atol", "1e-3"], "--solver"),
        ]
        for (arguments, word) in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 2, "\(arguments): status \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(word), "\(arguments): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/run/checkpoint.safetensors"))
    }

    @Test func flowMatchingCheckpointEvaluatesSamplesAndReflows() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/fm"
        let train = try CLI.run(["train", "--data", "8gaussians", "--objective", "flow-matching", "--coupling", "ot",
                                 "--iters", "30", "--out", run, "--seed", "1"] + CLI.small)
        #expect(train.status == 0, "\(train.stderr)")
        let ckpt = "\(run)/checkpoint.safetensors"
        let evaluation = try CLI.run(["evaluate", "--checkpoint", ckpt, "--n", "200"])
        #expect(evaluation.status == 0 && evaluation.stdout.contains("NLL:"), "\(evaluation.stderr)")

        let euler = try CLI.run(["sample", "--checkpoint", ckpt, "--n", "50", "--out", "\(dir)/e.npy", "--solver", "euler", "--steps", "7"])
        #expect(euler.status == 0, "\(euler.stderr)")
        #expect(euler.stderr.contains("NFE 7"), "\(euler.stderr)")
        let rk4 = try CLI.run(["sample", "--checkpoint", ckpt, "--n", "50", "--out", "\(dir)/r.npy", "--solver", "rk4", "--steps", "5"])
        #expect(rk4.stderr.contains("NFE 20"), "\(rk4.stderr)")
        let adaptive = try CLI.run(["sample", "--checkpoint", ckpt, "--n", "50", "--out", "\(dir)/a.npy", "--solver", "dopri5", "--rtol", "1e-3", "--atol", "1e-3"])
        #expect(adaptive.status == 0, "\(adaptive.stderr)")
        let mixed = try CLI.run(["sample", "--checkpoint", ckpt, "--n", "50", "--out", "\(dir)/m.npy", "--solver", "dopri5", "--steps", "5"])
        #expect(mixed.status == 2 && mixed.stderr.contains("--steps"))

        let reflow = try CLI.run(["train", "--data", "8gaussians", "--objective", "flow-matching", "--coupling", "reflow",
                                  "--teacher", ckpt, "--iters", "5", "--out", "\(dir)/reflow"] + CLI.small)
        #expect(reflow.status == 0, "\(reflow.stderr)")
        // Resuming with another objective is a runtime error naming the setting.
        let other = try CLI.run(["train", "--data", "8gaussians", "--iters", "40", "--out", run, "--seed", "1", "--resume", "--no-train-time"] + CLI.small)
        #expect(other.status == 1 && other.stderr.contains("objective"), "\(other.stderr)")
    }
}
