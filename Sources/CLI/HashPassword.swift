import Accounts
import ArgumentParser
import Foundation
import Server

/// `gantry hash-password`: reads a password on stdin, prints its bcrypt hash for `users:` in gantry.yaml.
struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password", abstract: "Print the bcrypt hash of a password read from stdin (for users: in gantry.yaml).")

    func run() throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("no password on stdin (echo -n 'secret' | gantry hash-password)")
        }
        print(bcryptHash(line, cost: PasswordHashing.defaultCost))
    }
}
