import FunctionKit

/// One Kubernetes object as written in the app's manifests, kept as JSON so every field survives untouched.
public struct Manifest: Sendable, Equatable {
    public var object: [String: JSONValue]

    public init(object: [String: JSONValue]) { self.object = object }

    public var apiVersion: String { object["apiVersion"]?.string ?? "" }
    public var kind: String { object["kind"]?.string ?? "" }
    public var name: String {
        get { object["metadata"]?["name"]?.string ?? "" }
        set { setMetadata("name", .string(newValue)) }
    }
    public var namespace: String? {
        get { object["metadata"]?["namespace"]?.string }
        set { setMetadata("namespace", newValue.map(JSONValue.string) ?? .null) }
    }
    /// "apps" for apps/v1, "" for v1.
    public var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }
    public var labels: [String: String] { (object["metadata"]?["labels"]?.object ?? [:]).compactMapValues(\.string) }
    public var isWorkload: Bool { kind == "Deployment" && group == "apps" }
    public var isConfig: Bool { group == "" && (kind == "ConfigMap" || kind == "Secret") }

    /// What identifies the object in a cluster, ignoring the API version (apps/v1 and apps/v1beta2 are one).
    public var key: ResourceKey { ResourceKey(group: group, kind: kind, namespace: namespace ?? "", name: name) }

    public subscript(path: String) -> JSONValue? {
        get { JSONPath.get(.object(object), path) }
        set { var root = JSONValue.object(object); JSONPath.set(&root, path, newValue ?? .null); object = root.object ?? [:] }
    }

    public mutating func setMetadata(_ field: String, _ value: JSONValue) {
        var meta = object["metadata"]?.object ?? [:]
        meta[field] = value.isNull ? nil : value
        object["metadata"] = .object(meta)
    }

    /// Adds labels to metadata.labels (a label already there with another value is overwritten).
    public mutating func addLabels(_ add: [String: String]) {
        var labels = object["metadata"]?["labels"]?.object ?? [:]
        for (k, v) in add { labels[k] = .string(v) }
        setMetadata("labels", .object(labels))
    }

    /// Kubernetes' names: "Deployment web" / "Deployment demo/web".
    public var displayName: String { "\(kind) \(namespace.map { "\($0)/" } ?? "")\(name)" }

    /// The manifest as one JSON document (JSON is YAML, so kubectl reads a stream of these).
    public var json: String { JSONValue.object(object).encoded() }
}

/// An object's identity in a cluster.
public struct ResourceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var group: String
    public var kind: String
    public var namespace: String
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group; self.kind = kind; self.namespace = namespace; self.name = name
    }

    /// "Deployment/demo/web", or "Deployment/web" without a namespace: how checkpoints and outputs write it.
    public var description: String { namespace.isEmpty ? "\(kind)/\(name)" : "\(kind)/\(namespace)/\(name)" }

    public static func < (a: ResourceKey, b: ResourceKey) -> Bool { a.description < b.description }
}

/// Dotted paths into JSON with list indexes: `spec.template.spec.containers[0].image`, optionally after `$.`.
public enum JSONPath {
    enum Step { case key(String), index(Int) }

    /// `a.b[0].c`, with `\.` for a dot inside a key and `['key.with.dots']` for a quoted key.
    static func steps(_ path: String) -> [Step] {
        var text = Substring(path)
        if text.hasPrefix("$.") { text = text.dropFirst(2) } else if text.hasPrefix("$") { text = text.dropFirst() }
        var steps: [Step] = [], key = "", it = text.makeIterator()
        func flush() { if !key.isEmpty { steps.append(.key(key)); key = "" } }
        while let ch = it.next() {
            switch ch {
            case "\\": if let next = it.next() { key.append(next) }
            case ".": flush()
            case "[":
                flush()
                var inner = ""
                while let c = it.next(), c != "]" { inner.append(c) }
                if let i = Int(inner) { steps.append(.index(i)) }
                else { steps.append(.key(inner.filter { $0 != "'" && $0 != "\"" })) }
            default: key.append(ch)
            }
        }
        flush()
        return steps
    }

    public static func get(_ root: JSONValue, _ path: String) -> JSONValue? {
        var current: JSONValue? = root
        for step in steps(path) {
            switch step {
            case .key(let k): current = current?[k]
            case .index(let i): current = current?.array.flatMap { i < $0.count ? $0[i] : nil }
            }
        }
        return current
    }

    /// Sets the value at `path`, creating objects on the way; returns false when a list index is out of range.
    @discardableResult
    public static func set(_ root: inout JSONValue, _ path: String, _ value: JSONValue) -> Bool {
        set(&root, steps(path)[...], value)
    }

    private static func set(_ node: inout JSONValue, _ steps: ArraySlice<Step>, _ value: JSONValue) -> Bool {
        guard let step = steps.first else { node = value; return true }
        switch step {
        case .key(let k):
            var object = node.object ?? [:]
            var child = object[k] ?? .null
            guard set(&child, steps.dropFirst(), value) else { return false }
            object[k] = child.isNull && steps.count == 1 ? nil : child
            node = .object(object)
        case .index(let i):
            guard var array = node.array, i < array.count else { return false }
            guard set(&array[i], steps.dropFirst(), value) else { return false }
            node = .array(array)
        }
        return true
    }
}
