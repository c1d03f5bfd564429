import Foundation

/// Runs async work from a plain thread and waits for it. The function host reads a function's stdout on its
/// own thread and must not read the next line before a checkpoint is committed: this is that wait.
/// Never call it from a Swift concurrency thread.
func runBlocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) -> Result<T, Error> {
    final class Box: @unchecked Sendable { var value: Result<T, Error>? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.value = .success(try await operation()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return box.value!
}
