import Foundation
import Testing
import Laminar

/// Runs the `laminar` executable built next to the test bundle and checks exit codes, messages
/// and files.
struct CLI {
    static var binary: URL {
        let candidates = [Bundle.main.bundleURL] + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        for dir in candidates {
            let url = dir.appendingPathComponent("laminar")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return Bundle.main.bundleURL.appendingPathComponent("laminar")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// A tiny, fast model configuration.
    static let small = ["--hidden", "8-8", "--batch", "64", "--rtol", "1e-3", "--atol", "1e-3", "--no-pictures"]
}

@Suite(.serialized) struct CommandLineTests {
    @Test func helpListsTheSubcommands() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        for command in ["train", "evaluate", "sample", "density", "compare"] { #expect(r.stdout.contains(command)) }
    }

    @Test func usageErrorsExitWithTwoAndNameTheFlag() throws {
        let dir = try CLI.temporaryDirectory()
        let cases: [([String], String)] = [
            (["train", "--data", "nosuchset", "--out", dir], "--data"),
            (["train", "--hidden", "64-x", "--out", dir], "--hidden"),
            (["train", "--rtol=-1", "--out", dir], "--rtol"),
            (["train", "--solver", "rk4", "--out", dir], "--step-size"),
            (["train", "--solver", "rk45", "--out", dir], "--solver"),
            (["latent", "train", "--gradient", "magic", "--out", dir], "--gradient"),
            (["sde", "gbm", "--gradient", "checkpointed", "--out", dir], "--gradient"),
            (["train", "--iters", "-5", "--out", dir], "--iters must be ≥ 1, got -5"),
            (["latent", "train", "--iters", "-5", "--out", dir], "--iters"),
            (["train", "--iters", "0", "--out", dir], "--iters"),
            (["train", "--no-such-flag"], "no-such-flag"),
            (["train", "--model", "glow", "--out", dir], "--model"),
            (["train", "--model", "planar", "--depth", "0", "--out", dir], "depth"),
            (["compare", "--widths", "1,0,8", "--out", dir], "--widths"),
            (["compare", "--depths", "two", "--out", dir], "--depths"),
            (["compare", "--targets", "u9", "--out", dir], "u9"),
            (["compare", "--task", "likelihood", "--targets", "u1", "--out", dir], "u1"),
            (["compare", "--with", "glow", "--out", dir], "--with"),
            (["train", "--out", "/proc/laminar-run"], "--out"),
            (["train", "--out", "/etc/hostname"], "not a directory"),
            (["sample", "--checkpoint", "\(dir)/none.safetensors", "--temperature", "0"], "--temperature"),
        ]
        for (arguments, word) in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 2, "\(arguments): status \(r.status)")
            #expect(r.stderr.contains(word), "\(arguments): \(r.stderr)")
        }
    }

    @Test func malformedPointsFileIsAOneLineRuntimeError() throws {
        let dir = try CLI.temporaryDirectory()
        let csv = "\(dir)/bad.csv"
        try "x,y\n1,2\n3,oops\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--data", csv, "--iters", "2", "--out", "\(dir)/run"] + CLI.small)
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad.csv:3") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test func trainEvaluateSampleAndResume() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/run"
        let first = try CLI.run(["train", "--data", "8gaussians", "--iters", "3", "--out", run, "--seed", "4"] + CLI.small)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let record = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        for key in ["iteration", "loss", "nfe_forward", "nfe_backward", "seconds"] { #expect(record?[key] != nil, "\(key)") }

        // Without --resume an existing run is not overwritten.
        let again = try CLI.run(["train", "--data", "8gaussians", "--iters", "3", "--out", run] + CLI.small)
        #expect(again.status == 1 && again.stderr.contains("--resume"))

        // Resume to 6 iterations, and compare with an uninterrupted 6-iteration run.
        let resumed = try CLI.run(["train", "--data", "8gaussians", "--iters", "6", "--out", run, "--seed", "4", "--resume"] + CLI.small)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let straight = try CLI.run(["train", "--data", "8gaussians", "--iters", "6", "--out", "\(dir)/straight", "--seed", "4"] + CLI.small)
        #expect(straight.status == 0)
        let a = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(run)/checkpoint.safetensors"))
        let b = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(dir)/straight/checkpoint.safetensors"))
        // Batches and noise depend only on (seed, iteration); the optimizer state is saved:
        // the interrupted-and-resumed run is bit-identical to the uninterrupted one.
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted())
        for (name, t) in a.tensors { #expect(t == b.tensors[name], "\(name)") }

        let evaluation = try CLI.run(["evaluate", "--checkpoint", "\(run)/checkpoint.safetensors", "--n", "200"])
        #expect(evaluation.status == 0 && evaluation.stdout.contains("NLL:"), "\(evaluation.stderr)")

        let samples = try CLI.run(["sample", "--checkpoint", "\(run)/checkpoint.safetensors", "--n", "100", "--out", "\(dir)/s.npy"])
        #expect(samples.status == 0, "\(samples.stderr)")
        let points = try PointsFile.load(path: "\(dir)/s.npy")
        #expect(points.shape == [100, 2])

        let png = try CLI.run(["sample", "--checkpoint", "\(run)/checkpoint.safetensors", "--n", "500", "--out", "\(dir)/s.png"])
        #expect(png.status == 0)
        #expect(try PNG.read("\(dir)/s.png").width > 400)  // the 400-pixel histogram, its axes and colour bar
    }

    @Test func aFileThatIsNotACheckpointIsRejected() throws {
        let dir = try CLI.temporaryDirectory()
        try "not a checkpoint".write(toFile: "\(dir)/x.safetensors", atomically: true, encoding: .utf8)
        let r = try CLI.run(["evaluate", "--checkpoint", "\(dir)/x.safetensors"])
        #expect(r.status == 1 && r.stderr.hasPrefix("error:"), "\(r.stderr)")
    }

    /// Every model trains, evaluates, samples and draws through the same commands.
    @Test func everyModelWorksWithTrainEvaluateSampleDensity() throws {
        let dir = try CLI.temporaryDirectory()
        let models: [[String]] = [
            ["--model", "planar", "--depth", "4"], ["--model", "planar-cnf", "--width", "4"],
            ["--model", "realnvp", "--couplings", "4", "--actnorm"],
        ]
        for (i, model) in models.enumerated() {
            let run = "\(dir)/run\(i)"
            let train = try CLI.run(["train", "--data", "8gaussians", "--iters", "5", "--out", run] + CLI.small + model)
            #expect(train.status == 0, "\(model): \(train.stderr)")
            let checkpoint = "\(run)/checkpoint.safetensors"
            let evaluation = try CLI.run(["evaluate", "--checkpoint", checkpoint, "--n", "200"])
            #expect(evaluation.status == 0 && evaluation.stdout.contains("NLL:"), "\(model): \(evaluation.stderr)")
            let samples = try CLI.run(["sample", "--checkpoint", checkpoint, "--n", "50", "--out", "\(run)/s.csv"])
            #expect(samples.status == 0, "\(model): \(samples.stderr)")
            let density = try CLI.run(["density", "--checkpoint", checkpoint, "--resolution", "20", "--out", "\(run)/d.png"])
            #expect(density.status == 0, "\(model): \(density.stderr)")
            // Resuming with a different model is refused and leaves the checkpoint alone.
            let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
            let other = i == 0 ? ["--model", "realnvp"] : ["--model", "planar"]
            let wrong = try CLI.run(["train", "--data", "8gaussians", "--iters", "8", "--out", run, "--resume"] + CLI.small + other)
            #expect(wrong.status == 2 && wrong.stderr.contains("--model is \(other[1]) here"), "\(wrong.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == before)
        }
    }

    @Test func compareWritesTableFilesAndPictures() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run([
            "compare", "--targets", "u1", "--depths", "1,2", "--widths", "1,2", "--iters", "3", "--batch", "32",
            "--evaluation-samples", "100", "--resolution", "16", "--rtol", "1e-3", "--atol", "1e-3", "--with", "realnvp",
            "--out", dir,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("planar-cnf") && r.stdout.contains("realnvp"), "\(r.stdout)")
        let csv = try String(contentsOfFile: "\(dir)/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 5)
        #expect(try PNG.read("\(dir)/panels.png").width > 0)
        #expect(try PNG.read("\(dir)/chart.png").width > 0)
    }

    /// `classify train | evaluate` on a small synthetic MNIST-format directory (bright top half
    /// = class 0, bright bottom half = class 1).
    @Test func classifyTrainResumeAndEvaluateAtSeveralTolerances() throws {
        let dir = try CLI.temporaryDirectory()
        let data = "\(dir)/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<40 {
            let label = UInt8(i % 2)
            labels.append(label)
            for r in 0..<28 { for _ in 0..<28 { pixels.append((r < 14) == (label == 0) ? 200 : 10) } }
        }
        try Data(IDXFile(shape: [40, 28, 28], bytes: pixels).serialized()).write(to: URL(fileURLWithPath: "\(data)/t10k-images-idx3-ubyte"))
        try Data(IDXFile(shape: [40], bytes: labels).serialized()).write(to: URL(fileURLWithPath: "\(data)/t10k-labels-idx1-ubyte"))
        let run = "\(dir)/run"
        let common = ["classify", "train", "--data", data, "--channels", "4", "--batch", "12", "--tol", "1e-2", "--out", run]
        let first = try CLI.run(common + ["--epochs", "1"])
        #expect(first.status == 0 && first.stdout.contains("test accuracy:"), "\(first.stderr)")
        #expect(first.stderr.contains("only t10k"))
        let resumed = try CLI.run(common + ["--epochs", "2", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count == 6)
        // Resume reads the model, solver, data, batch and seed from the checkpoint; flags given
        // again must agree, and the message names the flag with both values.
        let bare = try CLI.run(["classify", "train", "--out", run, "--epochs", "3", "--resume"])
        #expect(bare.status == 0 && bare.stderr.contains("resuming at iteration 6"), "\(bare.stderr)")
        #expect(try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count == 9)
        for (flags, message) in [
            (["--channels", "8"], "--channels is 8 here but 4 in"), (["--batch", "10"], "--batch is 10 here but 12 in"),
            (["--model", "resnet"], "--model is resnet here but odenet in"), (["--rtol", "1e-4"], "--rtol is 0.0001 here but 0.01 in"),
            (["--data", "mnist"], "--data is mnist here but \(data) in"),
        ] {
            let r = try CLI.run(["classify", "train", "--out", run, "--epochs", "4", "--resume"] + flags)
            #expect(r.status == 2 && r.stderr.contains(message), "\(flags): \(r.stderr)")
        }
        // Evaluation defaults to the checkpoint's data; other data is named in one line.
        let own = try CLI.run(["classify", "evaluate", "--checkpoint", "\(run)/checkpoint.safetensors"])
        #expect(own.status == 0 && own.stdout.contains("test split of \(data)") && !own.stderr.contains("trained on"), "\(own.stderr)")
        let other = try CLI.tinyImages(in: dir)
        let elsewhere = try CLI.run(["classify", "evaluate", "--checkpoint", "\(run)/checkpoint.safetensors", "--data", other])
        #expect(elsewhere.stderr.contains("the model was trained on \(data) and is being evaluated on \(other)"), "\(elsewhere.stderr)")
        let evaluation = try CLI.run([
            "classify", "evaluate", "--checkpoint", "\(run)/checkpoint.safetensors", "--data", data,
            "--rtol", "1e-1,1e-3", "--chart", "\(dir)/chart.png",
        ])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        #expect(evaluation.stdout.contains("1e-01") && evaluation.stdout.contains("1e-03"))
        #expect(try PNG.read("\(dir)/chart.png").width > 0)
        let bad = try CLI.run(["classify", "evaluate", "--checkpoint", "\(run)/checkpoint.safetensors", "--rtol", "0,1e-3"])
        #expect(bad.status == 2 && bad.stderr.contains("--rtol"))
    }

    /// Image density models on a tiny MNIST-format directory (8×8 images, t10k files only):
    /// train with a time budget → bits/dim; evaluate on the test split; sample a grid; rank
    /// the test images; usage errors name their flag.
    @Test func imageModelsTrainEvaluateSampleAndRank() throws {
        let dir = try CLI.temporaryDirectory()
        let data = "\(dir)/digits"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var pixels: [UInt8] = []
        for i in 0..<60 { for r in 0..<8 { for c in 0..<8 { pixels.append((c == 3 + i % 2 || r == 2) ? 230 : UInt8(i % 7)) } } }
        try Data(IDXFile(shape: [60, 8, 8], bytes: pixels).serialized()).write(to: URL(fileURLWithPath: "\(data)/t10k-images-idx3-ubyte"))
        try Data(IDXFile(shape: [60], bytes: [UInt8](repeating: 1, count: 60)).serialized())
            .write(to: URL(fileURLWithPath: "\(data)/t10k-labels-idx1-ubyte"))
        for (model, extra) in [("realnvp", ["--iters", "6"]), ("ffjord-multiscale", ["--iters", "2", "--hidden", "4", "--kinetic", "0.01", "--jacobian", "0.01"]),
                               ("ffjord-mlp", ["--iters", "2", "--hidden", "16"])] {
            let run = "\(dir)/\(model)"
            let trained = try CLI.run(["train", "--data", data, "--model", model, "--batch", "8", "--rtol", "1e-3", "--atol", "1e-3",
                                       "--out", run, "--eval-images", "6"] + extra)
            #expect(trained.status == 0, "\(model): \(trained.stderr)")
            #expect(trained.stdout.contains("bits/dim: "), "\(model): \(trained.stdout)")
            #expect(try PNG.read("\(run)/samples.png").width > 0)
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/summary.json"))) as? [String: Any]
            #expect((summary?["testBitsPerDimension"] as? Double ?? .nan).isFinite)
            let evaluation = try CLI.run(["evaluate", "--checkpoint", "\(run)/checkpoint.safetensors", "--split", "test", "--n", "4"])
            #expect(evaluation.status == 0 && evaluation.stdout.contains("bits/dim: ") && evaluation.stdout.contains(" ± "), "\(evaluation.stderr)")
            #expect(evaluation.stdout.contains("log-determinant: exact"))  // 64 pixels: exact is affordable
        }
        let checkpoint = "\(dir)/realnvp/checkpoint.safetensors"
        let grid = try CLI.run(["sample", "--checkpoint", checkpoint, "--n", "9", "--temperature", "0.7", "--out", "\(dir)/grid.png"])
        #expect(grid.status == 0, "\(grid.stderr)")
        #expect(try PNG.read("\(dir)/grid.png").width == 3 * (8 * 2 + 2) + 2)
        let ranked = try CLI.run(["density", "--checkpoint", checkpoint, "--images", "test", "--n", "6", "--columns", "3", "--rows", "1",
                                  "--out", "\(dir)/ranked.png"])
        #expect(ranked.status == 0, "\(ranked.stderr)")
        #expect(try PNG.read("\(dir)/ranked.png").width > 0 && PNG.read("\(dir)/ranked-histogram.png").width > 0)
        // A budget run stops cleanly and says so.
        let budget = try CLI.run(["train", "--data", data, "--model", "realnvp", "--batch", "8", "--time-budget", "1s",
                                  "--out", "\(dir)/budget", "--eval-images", "0", "--no-pictures"])
        #expect(budget.status == 0 && budget.stderr.contains("time budget reached"), "\(budget.stderr)")
        for (arguments, flag) in [
            (["train", "--data", data, "--time-budget", "soon", "--out", "\(dir)/x"], "--time-budget"),
            (["train", "--data", "checkerboard", "--model", "ffjord-mlp", "--out", "\(dir)/y"], "--model"),
            (["train", "--data", data, "--alpha", "0.7", "--out", "\(dir)/z"], "--alpha"),
            (["evaluate", "--checkpoint", checkpoint, "--split", "validation"], "--split"),
        ] {
            let result = try CLI.run(arguments)
            #expect(result.status == 2 && result.stderr.contains(flag), "\(arguments): \(result.stderr)")
        }
    }

    /// The shared training loop gives classify and latent runs the time budget of `train`: a
    /// clean stop with a checkpoint, then the scores.
    @Test func classifyAndLatentRunsStopAtTheTimeBudget() throws {
        let dir = try CLI.temporaryDirectory()
        let latent = try CLI.run([
            "latent", "train", "--series", "8", "--points", "6", "--test-series", "2", "--batch", "4", "--iters", "1000000",
            "--rtol", "1e-3", "--atol", "1e-3", "--time-budget", "1s", "--out", "\(dir)/latent",
        ])
        #expect(latent.status == 0 && latent.stderr.contains("time budget reached") && latent.stdout.contains("RMSE"), "\(latent.stderr)")
        let images = try CLI.tinyImages(in: dir)
        let classify = try CLI.run([
            "classify", "train", "--data", images, "--channels", "2", "--batch", "8", "--epochs", "100000",
            "--time-budget", "1s", "--out", "\(dir)/classify",
        ])
        #expect(classify.status == 0 && classify.stderr.contains("time budget reached") && classify.stdout.contains("test accuracy:"),
                "\(classify.stderr)")
        for run in ["latent", "classify"] {
            let stored = try Checkpoint<Float>.load(from: URL(fileURLWithPath: "\(dir)/\(run)/checkpoint.safetensors")).metadata
            #expect(Double(stored["elapsed_seconds"] ?? "") ?? 0 >= 1, "\(run)")
        }
    }

    /// `latent train | evaluate | plot` on a few spirals and on a user CSV; resume; errors.
    @Test func latentTrainResumeEvaluateAndPlot() throws {
        let dir = try CLI.temporaryDirectory()
        let run = "\(dir)/run"
        let common = [
            "latent", "train", "--series", "12", "--points", "10", "--test-series", "4", "--batch", "6",
            "--rtol", "1e-3", "--atol", "1e-3", "--checkpoint-every", "3", "--out", run,
        ]
        let first = try CLI.run(common + ["--iters", "3"])
        #expect(first.status == 0 && first.stdout.contains("extrapolation RMSE:"), "\(first.stderr)")
        let again = try CLI.run(common + ["--iters", "3"])
        #expect(again.status == 1 && again.stderr.contains("--resume"))
        let resumed = try CLI.run(common + ["--iters", "5", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count == 5)
        // Flags given again must agree with the checkpoint; left out, they are read from it.
        let changed = try CLI.run(common + ["--iters", "6", "--latent", "3", "--resume"])
        #expect(changed.status == 2 && changed.stderr.contains("--latent is 3 here but 4 in"), "\(changed.stderr)")
        let otherSolver = try CLI.run(common.filter { $0 != "1e-3" && $0 != "--rtol" && $0 != "--atol" } + ["--rtol", "1e-4", "--resume"])
        #expect(otherSolver.status == 2 && otherSolver.stderr.contains("--rtol is 0.0001 here but 0.001"), "\(otherSolver.stderr)")
        let bare = try CLI.run(["latent", "train", "--out", run, "--iters", "6", "--lr", "5e-3", "--resume"])
        #expect(bare.status == 0 && bare.stderr.contains("resuming at iteration 5"), "\(bare.stderr)")
        #expect(try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count == 6)
        let notClassifier = try CLI.run(["classify", "train", "--out", run, "--resume"])
        #expect(notClassifier.status == 1 && notClassifier.stderr.contains("laminar latent train --resume"), "\(notClassifier.stderr)")
        let evaluation = try CLI.run(["latent", "evaluate", "--checkpoint", "\(run)/checkpoint.safetensors"])
        #expect(evaluation.status == 0 && evaluation.stdout.contains("interpolation RMSE:"), "\(evaluation.stderr)")
        let plot = try CLI.run(["latent", "plot", "--checkpoint", "\(run)/checkpoint.safetensors", "--n", "4", "--out", "\(dir)/spirals.png"])
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(try PNG.read("\(dir)/spirals.png").width > 0)

        // The user's own series: 6 series of one feature at their own times.
        var csv = "series_id,time,value\n"
        for s in 0..<6 { for j in 0..<12 { csv += "s\(s),\(Double(j) * 0.3 + Double(s) * 0.01),\(sin(Double(j) * 0.3 + Double(s)))\n" } }
        try csv.write(toFile: "\(dir)/series.csv", atomically: true, encoding: .utf8)
        for model in ["latent-ode", "rnn"] {
            let own = try CLI.run([
                "latent", "train", "--data", "\(dir)/series.csv", "--model", model, "--iters", "2", "--batch", "3",
                "--rtol", "1e-3", "--atol", "1e-3", "--out", "\(dir)/own-\(model)",
            ])
            #expect(own.status == 0 && own.stderr.contains("5 series for training"), "\(own.stderr)")
        }
        let ownPlot = try CLI.run(["latent", "plot", "--checkpoint", "\(dir)/own-rnn/checkpoint.safetensors", "--out", "\(dir)/own.png"])
        #expect(ownPlot.status == 0, "\(ownPlot.stderr)")

        let usage: [([String], String)] = [
            (["latent", "train", "--model", "lstm", "--out", dir], "--model"),
            (["latent", "train", "--points", "0", "--out", dir], "--points"),
            (["latent", "train", "--model", "rnn", "--poisson", "--out", dir], "--poisson"),
            (["latent", "train", "--data", "series.txt", "--out", dir], "--data"),
            (["latent", "train", "--obs-std", "0", "--out", dir], "--obs-std"),
        ]
        for (arguments, flag) in usage {
            let r = try CLI.run(arguments)
            #expect(r.status == 2 && r.stderr.contains(flag), "\(arguments): \(r.stderr)")
        }
        try "series_id,time,value\na,0,1\na,0,2\n".write(toFile: "\(dir)/bad.csv", atomically: true, encoding: .utf8)
        let badCSV = try CLI.run(["latent", "train", "--data", "\(dir)/bad.csv", "--out", "\(dir)/bad"])
        #expect(badCSV.status == 1 && badCSV.stderr.contains("bad.csv"), "\(badCSV.stderr)")
        let notLatent = try CLI.run(["train", "--data", "8gaussians", "--iters", "1", "--out", "\(dir)/flow"] + CLI.small)
        #expect(notLatent.status == 0, "\(notLatent.stderr)")
        let wrong = try CLI.run(["latent", "evaluate", "--checkpoint", "\(dir)/flow/checkpoint.safetensors"])
        #expect(wrong.status == 1 && wrong.stderr.contains("not a checkpoint of laminar latent train"), "\(wrong.stderr)")
    }
}
