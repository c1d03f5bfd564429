import FunctionKit

/// What a query's placeholders stand for in one round.
public struct PlaceholderValues: Sendable, Equatable {
    /// `{{ .App.Name }}`, `{{ .App.Env }}`, `{{ .K8s.Namespace }}`.
    public var appName: String
    public var appEnv: String
    public var namespace: String
    /// `{{ .Variant.Name }}`: canary, baseline or primary for a comparing strategy's per-variant query; empty otherwise.
    public var variant: String
    /// `{{ .Args.x }}` (PipeCD: `{{ .AppCustomArgs.x }}`): the template reference's appArgs.
    public var args: [String: String]
    /// `{{ .VariantCustomArgs.x }}`: the check's args for the variant being queried.
    public var variantArgs: [String: String]

    public init(appName: String, appEnv: String = "", namespace: String = "", variant: String = "",
                args: [String: String] = [:], variantArgs: [String: String] = [:]) {
        self.appName = appName; self.appEnv = appEnv; self.namespace = namespace; self.variant = variant
        self.args = args; self.variantArgs = variantArgs
    }
}

/// The placeholders PipeCD's analysis queries use, and only those: `{{ .App.Name }}`, `{{ .App.Env }}`,
/// `{{ .K8s.Namespace }}`, `{{ .Variant.Name }}`, `{{ .Args.x }}`, `{{ .AppCustomArgs.x }}`,
/// `{{ .VariantCustomArgs.x }}`. Not Go templates: anything else between `{{` and `}}`, or an arg nobody gave, is an
/// error naming it, so a typo never reaches the metrics provider as literal text.
public enum Placeholders {
    public static func render(_ text: String, with values: PlaceholderValues) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw StageError.invalidStage("unclosed {{ in \"\(text)\"")
            }
            out += try value(of: rest[open.upperBound..<close.lowerBound], in: values)
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    private static func unsupported(_ expression: Substring) -> StageError {
        StageError.invalidStage("unsupported placeholder {{\(expression)}}: only {{ .App.Name }}, {{ .App.Env }}, "
                                + "{{ .K8s.Namespace }}, {{ .Variant.Name }} and {{ .Args.NAME }} are known")
    }

    private static func value(of expression: Substring, in values: PlaceholderValues) throws -> String {
        let path = expression.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard path.count == 1, path[0].hasPrefix(".") else {
            throw unsupported(expression)
        }
        let parts = path[0].dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func arg(_ map: [String: String], _ kind: String) throws -> String {
            guard parts.count == 2, let v = map[parts[1]] else {
                throw StageError.invalidStage("{{\(expression)}}: no \(kind) named \(parts.count == 2 ? parts[1] : "") was given")
            }
            return v
        }
        switch parts.first {
        case "App" where parts == ["App", "Name"]: return values.appName
        case "App" where parts == ["App", "Env"]: return values.appEnv
        case "K8s" where parts == ["K8s", "Namespace"]: return values.namespace
        case "Variant" where parts == ["Variant", "Name"]: return values.variant
        case "Args", "AppCustomArgs": return try arg(values.args, "appArgs entry")
        case "VariantCustomArgs": return try arg(values.variantArgs, "variant arg")
        default:
            throw unsupported(expression)
        }
    }
}
