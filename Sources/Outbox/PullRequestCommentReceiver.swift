import Foundation
import Store

/// A pull request's plan preview as one comment, written once and then edited in place by later pushes: GitHub
/// and Gitea through their issue comments, GitLab through merge request notes. The comment's id is remembered per
/// pull request; without it (lost between the create and the memory of it) the comment is found by its marker,
/// so a repeated delivery edits the one comment instead of adding a second.
struct PullRequestCommentReceiver: OutboxReceiver {
    let api: GitHostAPI
    let secrets: [String]

    /// Hidden in the rendered comment; names the repository, since two Gantry repositories can watch one host repo.
    static func marker(repository: String) -> String { "<!-- gantry:plan-preview \(repository) -->" }
    /// Pages of 100 looked through for the marker: a pull request with thousands of comments gets a new one.
    static let pagesSearched = 10

    private struct Comment: Codable { var id: Int64; var body: String? }
    private struct Body: Encodable { var body: String }

    func deliver(_ message: OutboxMessage, through exchange: OutboundExchange) async throws {
        let preview = try exchange.decode(PreviewComment.self, message)
        let marker = Self.marker(repository: preview.repository)
        let text = Body(body: marker + "\n" + preview.markdown)
        let memoKey = "pr:\(preview.pullRequest)"
        var known = try await exchange.memo(memoKey).flatMap { Int64($0) }
        if known == nil { known = try await find(marker, in: preview.pullRequest, exchange) }
        if let id = known {
            // 404: someone deleted the comment; a new one takes its place.
            let edited = try await exchange.call(try await edit(id, pullRequest: preview.pullRequest, text, exchange.now),
                                                 accepting: [404])
            if edited.status != 404 {
                try await exchange.remember(memoKey, String(id))
                return
            }
        }
        let created = try await exchange.call(try await create(pullRequest: preview.pullRequest, text, exchange.now))
        let id = try exchange.decode(Comment.self, from: created.body, what: "the created comment").id
        try await exchange.remember(memoKey, String(id))
    }

    private var commentsPath: (Int) -> String {
        switch api.provider {
        case .gitlab: return { "/projects/\(api.gitlabProject)/merge_requests/\($0)/notes" }
        default: return { "/repos/\(api.repository)/issues/\($0)/comments" }
        }
    }

    private func find(_ marker: String, in pullRequest: Int, _ exchange: OutboundExchange) async throws -> Int64? {
        for page in 1...Self.pagesSearched {
            let query = api.provider == .gitlab ? "?sort=asc&per_page=100&page=\(page)" : "?per_page=100&page=\(page)"
            let listed = try await exchange.call(try await api.get(commentsPath(pullRequest) + query, now: exchange.now))
            let comments = try exchange.decode([Comment].self, from: listed.body, what: "the pull request's comments")
            if let mine = comments.first(where: { $0.body?.hasPrefix(marker) == true }) { return mine.id }
            // Gitea answers every comment at once; a short page is the last one everywhere.
            if comments.count < 100 { return nil }
        }
        return nil
    }

    private func create(pullRequest: Int, _ body: Body, _ now: Date) async throws -> OutboundRequest {
        try await api.request("POST", commentsPath(pullRequest), body: body, now: now)
    }

    private func edit(_ id: Int64, pullRequest: Int, _ body: Body, _ now: Date) async throws -> OutboundRequest {
        switch api.provider {
        case .gitlab: return try await api.request("PUT", commentsPath(pullRequest) + "/\(id)", body: body, now: now)
        default: return try await api.request("PATCH", "/repos/\(api.repository)/issues/comments/\(id)", body: body, now: now)
        }
    }
}
