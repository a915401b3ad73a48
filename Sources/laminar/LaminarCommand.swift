import ArgumentParser
import Foundation
import Laminar

/// `laminar`: continuous normalizing flows and neural ODEs from the command line.
///
/// Exit codes: 0 success, 1 runtime failure (missing or unreadable file, solver failure,
/// divergence, an interrupted run), 2 usage error (unknown flag or invalid value).
@main
struct LaminarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "laminar",
        abstract: "Continuous normalizing flows and neural ODEs.",
        discussion: """
            Exit codes: 0 success; 1 runtime failure (missing or unreadable file, solver failure, \
            divergence, an interrupt: the last good checkpoint is kept); 2 usage error (unknown flag \
            or invalid value).
            """,
        version: laminarVersion,
        subcommands: [Train.self, Evaluate.self, Sample.self, Density.self, Compare.self, Classify.self, Latent.self, Score.self, SDE.self])

    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // Parsing and validation: help/version exit 0, everything else is a usage error (2).
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
            Foundation.exit(2)
        }
        SignalFlag.installImmediate()
        do {
            try command.run()
        } catch {
            // Help and usage errors the parser raises while running a command group: as above.
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure, !(error is ValidationError) {
                FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
                Foundation.exit(2)
            }
            // Under mpirun the whole job ends.
            let outcome = Outcome(error)
            DistributedRun.fail(error, message: outcome.message, code: outcome.code)
        }
    }
}

/// How a failure of `run()` is reported: one line, no usage text, and the README's exit code.
struct Outcome {
    let message: String
    let code: Int32

    init(_ error: any Error) {
        switch error {
        case let error as ValidationError:
            // A value only `run()` could judge (e.g. a flag that disagrees with the checkpoint).
            (message, code) = ("error: \(error.message)", 2)
        case let error as TrainingError:
            if case .interrupted = error { (message, code) = ("interrupted: \(error)", 1) }
            else { (message, code) = ("error: \(error)", 1) }
        case let error as ClassifierError:
            if case .interrupted = error { (message, code) = ("interrupted: \(error)", 1) }
            else { (message, code) = ("error: \(error)", 1) }
        case let error as LatentError:
            if case .interrupted = error { (message, code) = ("interrupted: \(error)", 1) }
            else { (message, code) = ("error: \(error)", 1) }
        case let error as CommandInterrupted:
            (message, code) = ("interrupted: \(error)", 1)
        default:
            // Runtime failures (files, solver, divergence): one line, exit 1.
            (message, code) = ("error: \(error)", 1)
        }
    }
}

/// A runtime failure detected by the command line itself (exit code 1).
struct LaminarCLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A long evaluation stopped by SIGINT/SIGTERM (exit code 1, reported as an interrupt).
struct CommandInterrupted: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
