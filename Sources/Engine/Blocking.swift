import Foundation

/// Holds a value handed from a Task back to the thread that waits for it.
private final class ResultBox<T>: @unchecked Sendable { var value: Result<T, Error>? }

/// Runs async work from a plain thread and waits for it. The function host reads a function's stdout on its
/// own thread and must not read the next line before a checkpoint is committed: this is that wait.
/// Never call it from a Swift concurrency thread.
func runBlocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) -> Result<T, Error> {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.value = .success(try await operation()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return box.value!
}
