import ArgumentParser
import Foundation

/// `laminar`: continuous normalizing flows and neural ODEs from the command line.
///
/// Exit codes: 0 success, 1 runtime failure (bad file, solver failure, divergence),
/// 2 usage error (unknown flag or invalid value).
@main
struct LaminarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "laminar",
        abstract: "Continuous normalizing flows and neural ODEs.",
        discussion: "Exit codes: 0 success, 1 runtime failure, 2 usage error.",
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
        do {
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if error is ValidationError || code == .validationFailure {
                FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
                Foundation.exit(2)
            }
            // Runtime failures (files, solver, divergence): one line, exit 1 (under mpirun the
            // whole job ends).
            DistributedRun.fail(error)
        }
    }
}

/// A runtime failure detected by the command line itself (exit code 1).
struct LaminarCLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
