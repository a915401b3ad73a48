import Foundation
import Testing
import Laminar

/// `laminar train --resume` reads the model, the data, the batch size and the seed from the
/// checkpoint; flags given again must agree, and a disagreement names the flag with both values.
@Suite(.serialized) struct ResumeTests {
    /// The README's example: train with model flags, resume with only --iters, --out and --resume.
    @Test func resumeWithoutRepeatingTheModelFlagsContinuesBitIdentically() throws {
        let dir = try CLI.temporaryDirectory()
        let model = ["--hidden", "8-8", "--trace", "hutchinson", "--batch", "32", "--rtol", "1e-3", "--atol", "1e-3",
                     "--seed", "7", "--no-pictures"]
        let first = try CLI.run(["train", "--data", "checkerboard", "--iters", "3", "--out", "\(dir)/run"] + model)
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try CLI.run(["train", "--iters", "6", "--out", "\(dir)/run", "--resume", "--no-pictures"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at iteration 3") && resumed.stderr.contains("hutchinson-gaussian"), "\(resumed.stderr)")
        let straight = try CLI.run(["train", "--data", "checkerboard", "--iters", "6", "--out", "\(dir)/straight"] + model)
        #expect(straight.status == 0, "\(straight.stderr)")
        let a = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(dir)/run/checkpoint.safetensors"))
        let b = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(dir)/straight/checkpoint.safetensors"))
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted())
        for (name, t) in a.tensors { #expect(t == b.tensors[name], "\(name)") }
        // Flags given again that agree (including another spelling of the same value) are accepted.
        let agreeing = try CLI.run(["train", "--data", "checkerboard", "--iters", "7", "--out", "\(dir)/run", "--resume"] + model)
        #expect(agreeing.status == 0, "\(agreeing.stderr)")
    }

    @Test func aFlagThatDisagreesWithTheCheckpointIsNamedWithBothValues() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/run"
        let first = try CLI.run(["train", "--data", "8gaussians", "--iters", "2", "--out", run] + CLI.small)
        #expect(first.status == 0, "\(first.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoint.safetensors"))
        let cases: [([String], String)] = [
            (["--hidden", "16-16"], "--hidden is 16-16 here but 8-8"),
            (["--trace", "hutchinson-rademacher"], "--trace is hutchinson-rademacher here but exact"),
            (["--solver", "tsit5"], "--solver is tsit5 here but dopri5"),
            (["--rtol", "1e-4"], "--rtol is 0.0001 here but 0.001"),
            (["--gradient", "backprop"], "--gradient is backprop here but adjoint"),
            (["--model", "realnvp"], "--model is realnvp here but ffjord"),
            (["--data", "checkerboard"], "--data is checkerboard here but 8gaussians"),
            (["--batch", "128"], "--batch is 128 here but 64"),
            (["--seed", "3"], "--seed is 3 here but 0"),
        ]
        for (flags, message) in cases {
            let r = try CLI.run(["train", "--iters", "4", "--out", run, "--resume"] + flags)
            #expect(r.status == 2, "\(flags): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(flags): \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoint.safetensors")) == before)
        // What may change: iterations, learning rate, threads, checkpoint cadence.
        let allowed = try CLI.run([
            "train", "--iters", "4", "--lr", "5e-4", "--threads", "2", "--checkpoint-every", "1", "--out", run, "--resume",
            "--no-pictures",
        ])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        // A size flag of the stored model is compared even when --model is not repeated.
        let planar = try CLI.run(["train", "--data", "8gaussians", "--model", "planar", "--iters", "1", "--out", "\(dir)/planar"] + CLI.small)
        #expect(planar.status == 0, "\(planar.stderr)")
        let depth = try CLI.run(["train", "--iters", "2", "--depth", "4", "--out", "\(dir)/planar", "--resume"])
        #expect(depth.status == 2 && depth.stderr.contains("--depth is 4 here but 8"), "\(depth.stderr)")
        let noCheckpoint = try CLI.run(["train", "--out", "\(dir)/empty", "--resume"])
        #expect(noCheckpoint.status == 1 && noCheckpoint.stderr.contains("no checkpoint"), "\(noCheckpoint.stderr)")
    }

    /// On image data the defaults fit images (batch 64, tolerances 1e-3) and are said at start-up.
    @Test func imageDataGetsImageDefaultsAndSaysSo() throws {
        let dir = try CLI.temporaryDirectory()
        let images = try CLI.tinyImages(in: dir, count: 70)
        let r = try CLI.run(["train", "--data", images, "--model", "ffjord", "--hidden", "2", "--iters", "1",
                             "--eval-images", "4", "--no-pictures", "--out", "\(dir)/run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("image data: using --batch 64 --rtol 1e-3 --atol 1e-3"), "\(r.stderr)")
        #expect(r.stderr.contains("rtol 0.001 atol 0.001") && r.stderr.contains("batch 64"), "\(r.stderr)")
        let toy = try CLI.run(["train", "--data", "8gaussians", "--iters", "1", "--hidden", "4", "--no-pictures", "--out", "\(dir)/toy"])
        #expect(toy.status == 0 && toy.stderr.contains("batch 512") && !toy.stderr.contains("image data"), "\(toy.stderr)")
    }
}
