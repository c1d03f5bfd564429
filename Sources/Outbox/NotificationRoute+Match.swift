import Store

extension NotificationRoute {
    /// piped's matcher: an ignored event, app or label (any one of `ignoreLabels` equal on the app) drops the
    /// event; a non-empty `events` or `apps` must list it; every one of `labels` must be equal on the app.
    public func matches(_ event: DeploymentEvent) -> Bool {
        let type = event.type.rawValue, app = event.deployment.application, appLabels = event.deployment.labels
        if ignoreEvents?.contains(type) == true { return false }
        if let events, !events.isEmpty, !events.contains(type) { return false }
        if ignoreApps?.contains(app) == true { return false }
        if let apps, !apps.isEmpty, !apps.contains(app) { return false }
        for (key, value) in ignoreLabels ?? [:] where appLabels[key] == value { return false }
        for (key, value) in labels ?? [:] where appLabels[key] != value { return false }
        return true
    }
}
