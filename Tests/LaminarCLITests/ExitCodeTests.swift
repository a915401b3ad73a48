import Foundation
import Synchronization
import Testing
import Laminar

extension CLI {
    /// Starts `laminar` with `arguments`, waits until it has run for `seconds` (or until its
    /// standard error contains `ready`), sends SIGINT and returns how it ended.
    static func interrupted(_ arguments: [String], after seconds: Double, ready: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let collected = Mutex("")
        err.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            collected.withLock { $0 += chunk }
        }
        try process.run()
        let start = Date()
        while process.isRunning, Date().timeIntervalSince(start) < 120 {
            let seen = collected.withLock { $0 }
            if Date().timeIntervalSince(start) >= seconds, ready.map(seen.contains) ?? true { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        err.fileHandleForReading.readabilityHandler = nil
        let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Result(status: process.terminationStatus, stdout: o, stderr: collected.withLock { $0 } + rest)
    }

    /// A tiny MNIST-format directory (t10k files only) of `count` 8×8 images.
    static func tinyImages(in dir: String, count: Int = 40) throws -> String {
        let data = "\(dir)/digits"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var pixels: [UInt8] = []
        for i in 0..<count { for r in 0..<8 { for c in 0..<8 { pixels.append((c == 3 + i % 2 || r == 2) ? 230 : UInt8(i % 7)) } } }
        try Data(IDXFile(shape: [count, 8, 8], bytes: pixels).serialized())
            .write(to: URL(fileURLWithPath: "\(data)/t10k-images-idx3-ubyte"))
        try Data(IDXFile(shape: [count], bytes: (0..<count).map { UInt8($0 % 2) }).serialized())
            .write(to: URL(fileURLWithPath: "\(data)/t10k-labels-idx1-ubyte"))
        return data
    }
}

/// The README's exit-code table for every subcommand: 0 success, 1 runtime failure (a missing
/// file, an interrupt), 2 usage error; one line on standard error, no usage text after a
/// runtime failure.
@Suite(.serialized) struct ExitCodeTests {
    static let subcommands: [[String]] = [
        ["train"], ["evaluate"], ["sample"], ["density"], ["compare"], ["classify", "train"], ["classify", "evaluate"],
        ["latent", "train"], ["latent", "evaluate"], ["latent", "plot"],
    ]

    @Test func versionAndHelpExitZero() throws {
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout.split(separator: ".").count == 3, "\(version.stdout)")
        for command in Self.subcommands {
            let help = try CLI.run(command + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("--threads"), "\(command): \(help.stdout)")
        }
        // The solver flags list the tableaux and gradient modes in their help.
        let train = try CLI.run(["train", "--help"])
        for name in Tableau.names + GradientMethod.names { #expect(train.stdout.contains(name), "\(name)") }
    }

    @Test func aBadFlagIsAUsageErrorForEverySubcommand() throws {
        for command in Self.subcommands {
            // Required options first: the parser reports a missing one before an unknown one.
            let required = ["train", "compare"].contains(command.last ?? "") ? [] : ["--checkpoint", "x.safetensors"]
            let r = try CLI.run(command + required + ["--no-such-flag"])
            #expect(r.status == 2 && r.stderr.contains("no-such-flag"), "\(command): \(r.status) \(r.stderr)")
        }
    }

    @Test func aMissingFileIsARuntimeErrorForEverySubcommand() throws {
        let dir = try CLI.temporaryDirectory()
        let missing = "\(dir)/missing"
        let cases: [[String]] = [
            ["train", "--data", "\(missing).csv", "--out", "\(dir)/a"],
            ["train", "--data", "mnist", "--data-dir", missing, "--out", "\(dir)/b"],
            ["evaluate", "--checkpoint", "\(missing).safetensors"],
            ["sample", "--checkpoint", "\(missing).safetensors"],
            ["density", "--checkpoint", "\(missing).safetensors"],
            ["classify", "train", "--data", missing, "--out", "\(dir)/c"],
            ["classify", "evaluate", "--checkpoint", "\(missing).safetensors"],
            ["latent", "train", "--data", "\(missing).csv", "--out", "\(dir)/d"],
            ["latent", "evaluate", "--checkpoint", "\(missing).safetensors"],
            ["latent", "plot", "--checkpoint", "\(missing).safetensors", "--out", "\(dir)/p.png"],
        ]
        for arguments in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 1, "\(arguments): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(missing), "\(arguments): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && !r.stderr.contains("Usage"), "\(arguments): \(r.stderr)")
        }
        // compare reads no file; its output directory is checked like every other --out.
        let compare = try CLI.run(["compare", "--out", "/proc/laminar-compare"])
        #expect(compare.status == 2 && compare.stderr.contains("--out"), "\(compare.stderr)")
    }

    /// A checkpoint of one command's model given to another says which command reads it.
    @Test func aCheckpointOfAnotherCommandNamesTheRightOne() throws {
        let dir = try CLI.temporaryDirectory()
        let latent = try CLI.run([
            "latent", "train", "--series", "8", "--points", "6", "--test-series", "2", "--batch", "4", "--iters", "1",
            "--rtol", "1e-3", "--atol", "1e-3", "--out", "\(dir)/latent",
        ])
        #expect(latent.status == 0, "\(latent.stderr)")
        for command in ["evaluate", "sample", "density"] {
            let r = try CLI.run([command, "--checkpoint", "\(dir)/latent/checkpoint.safetensors"])
            #expect(r.status == 1 && r.stderr.contains("laminar latent evaluate"), "\(command): \(r.stderr)")
        }
        let resume = try CLI.run(["train", "--out", "\(dir)/latent", "--resume"])
        #expect(resume.status == 1 && resume.stderr.contains("laminar latent train --resume"), "\(resume.stderr)")
    }

    /// SIGINT is reported as an interrupt ("interrupted: …", exit 1) by every subcommand.
    @Test func anInterruptIsReportedAsAnInterruptByEverySubcommand() throws {
        let dir = try CLI.temporaryDirectory()
        let images = try CLI.tinyImages(in: dir)
        let flow = "\(dir)/flow"
        let trained = try CLI.run(["train", "--data", "8gaussians", "--iters", "2", "--out", flow] + CLI.small)
        #expect(trained.status == 0, "\(trained.stderr)")
        let checkpoint = "\(flow)/checkpoint.safetensors"
        // The same model at tight tolerances: its 1000² density grid takes seconds, time to interrupt.
        let tight = "\(dir)/tight"
        let tightRun = try CLI.run(
            ["train", "--data", "8gaussians", "--iters", "2", "--out", tight, "--hidden", "8-8", "--batch", "64",
             "--rtol", "1e-9", "--atol", "1e-9", "--no-pictures"])
        #expect(tightRun.status == 0, "\(tightRun.stderr)")
        let latent = "\(dir)/latent"
        // Tight tolerances: scoring and plotting its 64 test series takes seconds, time to interrupt.
        let latentRun = try CLI.run([
            "latent", "train", "--series", "8", "--points", "6", "--test-series", "64", "--batch", "4", "--iters", "1",
            "--rtol", "1e-12", "--atol", "1e-12", "--out", latent,
        ])
        #expect(latentRun.status == 0, "\(latentRun.stderr)")
        let classifier = "\(dir)/classifier"
        let classifierRun = try CLI.run([
            "classify", "train", "--data", images, "--channels", "2", "--batch", "8", "--epochs", "0.2", "--out", classifier,
        ])
        #expect(classifierRun.status == 0, "\(classifierRun.stderr)")
        // Each command with enough work to be interrupted; `ready` is a line it prints once running.
        let cases: [([String], String?)] = [
            (["train", "--data", "8gaussians", "--iters", "100000", "--out", "\(dir)/long"] + CLI.small, "laminar train:"),
            (["evaluate", "--checkpoint", checkpoint, "--n", "20000000"], nil),
            (["sample", "--checkpoint", checkpoint, "--n", "20000000", "--out", "\(dir)/s.npy"], nil),
            (["density", "--checkpoint", "\(tight)/checkpoint.safetensors", "--resolution", "1000", "--out", "\(dir)/d.png"], nil),
            (["compare", "--targets", "u1", "--depths", "2", "--widths", "2", "--iters", "1000000", "--out", "\(dir)/cmp"], "u1"),
            (["classify", "train", "--data", images, "--channels", "2", "--batch", "8", "--epochs", "10000", "--out", "\(dir)/c2"],
             "laminar classify train:"),
            (["classify", "evaluate", "--checkpoint", "\(classifier)/checkpoint.safetensors", "--data", images,
              "--rtol", Array(repeating: "1e-9", count: 4000).joined(separator: ",")], "test accuracy"),
            (["latent", "train", "--series", "8", "--points", "6", "--test-series", "2", "--batch", "4", "--iters", "1000000",
              "--out", "\(dir)/l2"], "laminar latent train:"),
            (["latent", "evaluate", "--checkpoint", "\(latent)/checkpoint.safetensors"], nil),
            (["latent", "plot", "--checkpoint", "\(latent)/checkpoint.safetensors", "--n", "64", "--out", "\(dir)/p.png"], nil),
        ]
        for (arguments, ready) in cases {
            let r = try CLI.interrupted(arguments, after: 1.5, ready: ready)
            #expect(r.status == 1, "\(arguments): status \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("interrupted") && !r.stderr.contains("error:"), "\(arguments): \(r.stderr)")
        }
    }
}
