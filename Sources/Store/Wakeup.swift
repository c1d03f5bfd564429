/// A wake-up signal between the steps of the flow: `signal()` never blocks and never loses a wake-up
/// (a signal while nobody waits is remembered), `wait(timeout:)` returns at the first signal or deadline.
public actor Wakeup {
    private var pending = false
    private var deployments: Set<String> = []
    private var waiter: CheckedContinuation<Void, Never>?
    private var generation = 0

    public init() {}

    public nonisolated func signal() { Task { await self.fire(nil) } }

    /// A signal about one deployment: the engine then reads that deployment, not every active one.
    public nonisolated func signal(deployment: String) { Task { await self.fire(deployment) } }

    private func fire(_ deployment: String?) {
        if let deployment { deployments.insert(deployment) }
        if let w = waiter { waiter = nil; w.resume() } else { pending = true }
    }

    /// The deployments named by signals since the last call.
    public func takeDeployments() -> Set<String> {
        defer { deployments = [] }
        return deployments
    }

    /// Waits for a signal, or at most `timeout` seconds (nil: no limit).
    public func wait(timeout: Double?) async {
        if pending { pending = false; return }
        generation += 1
        let mine = generation
        if let timeout {
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1_000_000_000))
                await self?.timeUp(mine)
            }
        }
        await withCheckedContinuation { waiter = $0 }
    }

    private func timeUp(_ gen: Int) {
        if gen == generation, let w = waiter { waiter = nil; w.resume() }
    }
}
