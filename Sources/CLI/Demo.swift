import ArgumentParser
import Foundation
import Server

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Try Gantry locally: a bare repo with a sample app and a signed push hook, then the server.")
    @Option(help: "Where the demo keeps its repository, config and data.") var dir: String = "./.gantry-demo"
    @Option(help: "Address the demo server listens on.") var listen: String = "127.0.0.1:8080"

    func run() async throws {
        let demo = DemoSetup(directory: dir, listen: listen)
        let config = try demo.prepare()
        // Written straight to fd 1 so it shows at once even when stdout is a file or a pipe.
        FileHandle.standardOutput.write(Data(demo.instructions().utf8))
        try await GantryServer(configPath: config).run()
    }
}
