import Mustache

/// The page templates, embedded so an installed binary needs no resource files beside it. Mustache escapes
/// every `{{value}}` for HTML; `{{{content}}}` is only ever a page this server rendered.
enum Templates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in all { try library.register(text, named: name) }
        return library
    }

    static let all: [(String, String)] = [
        ("layout", layout), ("login", login), ("applications", applications), ("application", application),
        ("deployment", deployment), ("pipeline", pipeline), ("stage", stage), ("deliveries", deliveries),
        ("outbox", outbox), ("tokens", tokens), ("users", users), ("insights", insights), ("message", message), ("appRows", appRows),
    ]

    static let csrfField = #"<input type="hidden" name="_csrf" value="{{csrf}}">"#

    static let layout = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Gantry</title><link rel="stylesheet" href="/static/gantry.css"><script src="/static/gantry.js" defer></script></head>
    <body>
    <header class="top"><a class="brand" href="/applications">Gantry</a>
    {{#user}}<nav><a href="/applications">Applications</a><a href="/deliveries">Deliveries</a><a href="/outbox">Outbox</a><a href="/insights">Insights</a><a href="/tokens">API tokens</a>{{#isAdmin}}<a href="/users">Users</a>{{/isAdmin}}</nav>
    <form class="who" method="post" action="/logout">\(csrfField)<span id="who">{{name}} · {{role}}</span> <button type="submit">Log out</button></form>{{/user}}
    </header>
    <main>
    {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}{{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
    {{{content}}}
    </main></body></html>
    """

    static let login = """
    <section class="login"><h1>Log in to Gantry</h1>
    <form method="post" action="/login">\(csrfField)<input type="hidden" name="next" value="{{next}}">
    <label>User <input name="username" id="username" autocomplete="username" required autofocus></label>
    <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
    <button type="submit" id="login">Log in</button></form>
    {{#noUsers}}<p class="hint">No users are configured: add <code>users:</code> to gantry.yaml (see the README).</p>{{/noUsers}}
    </section>
    """

    static let applications = """
    <h1>Applications</h1>
    <table class="list" data-live="/live/applications"><thead><tr><th>Application</th><th>Kind</th><th>Sync state</th><th>Running commit</th><th>Last deployment</th></tr></thead><tbody id="apps">{{> appRows}}</tbody></table>
    """

    /// The applications' rows, re-rendered and pushed over Server-Sent Events when they change.
    static let appRows = """
    {{#apps}}<tr class="app" data-app="{{name}}"><td><a href="/applications/{{name}}">{{name}}</a><div class="sub">{{repository}} · {{configFile}}</div></td><td>{{kind}}</td>
    <td><span class="badge {{stateClass}}">{{state}}</span>{{#configError}}<div class="config-error">{{configError}}</div>{{/configError}}</td>
    <td><code>{{runningCommit}}</code></td>
    <td>{{#last}}<a href="/deployments/{{id}}"><span class="badge s-{{status}}">{{status}}</span> <code>{{commit}}</code></a> <span class="sub">{{when}}</span>{{/last}}{{^last}}none{{/last}}</td></tr>{{/apps}}
    {{^apps}}<tr><td colspan="5">No applications yet: push a commit with an app config.</td></tr>{{/apps}}
    """

    static let application = """
    <h1>{{name}}</h1><p class="sub">{{kind}} · {{repository}} · {{configFile}}{{#platform}} · platform {{platform}}{{/platform}}{{#labels}} · {{labels}}{{/labels}}</p>
    {{#configError}}<p class="config-error">{{configError}}</p>{{/configError}}
    {{#configWarnings}}<p class="config-warning">{{.}}</p>{{/configWarnings}}
    {{#canEdit}}<form method="post" action="/applications/{{name}}/sync" class="inline">\(csrfField)
    <select name="strategy"><option value="auto">auto</option><option value="quick-sync">quick sync</option><option value="pipeline">pipeline</option></select>
    <button type="submit" class="primary">Sync</button></form>{{/canEdit}}
    <h2>History</h2>
    <table class="list"><thead><tr><th>Deployment</th><th>Status</th><th>Commit</th><th>Trigger</th><th>Created</th><th>Duration</th></tr></thead><tbody>
    {{#history}}<tr><td><a href="/deployments/{{id}}">{{shortID}}</a></td><td><span class="badge s-{{status}}">{{status}}</span></td><td><code>{{commit}}</code> {{message}}</td><td>{{trigger}} · {{author}}</td><td>{{created}}</td><td>{{duration}}</td></tr>{{/history}}
    {{^history}}<tr><td colspan="6">No deployments yet.</td></tr>{{/history}}
    </tbody></table>
    """

    static let deployment = """
    <div id="deployment" data-live="/deployments/{{id}}/events?after={{lastLogID}}">
    <div id="pipeline">{{#pipeline}}{{> pipeline}}{{/pipeline}}</div>
    </div>
    <h2>Logs</h2>
    {{#stages}}<details class="log" open><summary>#{{index}} {{name}}</summary><pre id="log-{{index}}">{{logText}}</pre></details>{{/stages}}
    """

    /// Re-rendered and pushed over Server-Sent Events whenever the deployment changes.
    static let pipeline = """
    <h1><a href="/applications/{{application}}">{{application}}</a> <span class="badge s-{{status}}" id="status" data-status="{{status}}">{{status}}</span></h1>
    <p class="sub">commit <code>{{commit}}</code> {{message}} · {{trigger}} · {{author}} · {{strategy}} · {{summary}}</p>
    {{#statusReason}}<p class="reason">{{statusReason}}</p>{{/statusReason}}
    {{#canCancel}}<div class="actions">
    <form method="post" action="/deployments/{{id}}/cancel" class="inline">\(csrfField)<input type="hidden" name="rollback" value="1"><button type="submit" class="danger" id="cancel">Cancel</button></form>
    <form method="post" action="/deployments/{{id}}/cancel" class="inline">\(csrfField)<input type="hidden" name="rollback" value="0"><button type="submit" class="danger" id="cancel-no-rollback">Cancel without rollback</button></form>
    </div>{{/canCancel}}
    <ol class="graph">{{#forward}}{{> stage}}{{/forward}}</ol>
    {{#hasRollback}}<h3>Rollback stages</h3><ol class="graph rollback">{{#rollbackStages}}{{> stage}}{{/rollbackStages}}</ol>{{/hasRollback}}
    """

    static let stage = """
    <li class="stage s-{{status}}" id="stage-{{index}}" data-stage="{{index}}" data-status="{{status}}"><div class="name">{{name}}</div>
    <div class="meta"><span class="status">{{status}}</span> · attempt {{attempts}}{{#duration}} · {{duration}}{{/duration}}</div>
    {{#waiting}}<div class="sub">waiting for {{waiting}}</div>{{/waiting}}{{#stageMessage}}<div class="msg">{{stageMessage}}</div>{{/stageMessage}}
    {{#approvedBy}}<div class="sub">approved by {{approvedBy}}</div>{{/approvedBy}}
    {{#approve}}<form method="post" action="/deployments/{{id}}/approve" class="inline">\(csrfField)<input type="hidden" name="stage" value="{{index}}"><button type="submit" class="primary approve" id="approve-{{index}}">Approve</button></form>{{/approve}}
    {{#skip}}<form method="post" action="/deployments/{{id}}/stages/{{index}}/skip" class="inline">\(csrfField)<button type="submit" id="skip-{{index}}">Skip</button></form>{{/skip}}
    </li>
    """

    static let outbox = """
    <h1>Outbox</h1><p class="sub">Calls to other systems not sent yet, and the ones given up on after their last attempt.</p>
    <table class="list"><thead><tr><th>Status</th><th>Target</th><th>Event</th><th>Deployment</th><th>Attempts</th><th>Next attempt</th><th>Last error</th><th></th></tr></thead><tbody>
    {{#rows}}<tr><td><span class="badge">{{status}}</span></td><td>{{target}}</td><td>{{event}}</td><td><a href="/deployments/{{deployment}}"><code>{{deploymentShort}}</code></a></td><td>{{attempts}}</td><td>{{next}}</td><td class="config-error">{{lastError}}</td>
    <td>{{#canRetry}}<form method="post" action="/outbox/{{id}}/retry" class="inline">\(csrfField)<button type="submit">Retry</button></form>{{/canRetry}}</td></tr>{{/rows}}
    {{^rows}}<tr><td colspan="8">Nothing waiting and nothing given up.</td></tr>{{/rows}}
    </tbody></table>
    """

    static let deliveries = """
    <h1>Webhook deliveries</h1>
    {{#bindings}}<section class="binding"><h2>{{binding}} <span class="sub">POST /hooks/{{binding}}</span></h2>
    <table class="list"><thead><tr><th>Received</th><th>Event</th><th>Verdict</th><th>Reason</th><th>Delivery id</th></tr></thead><tbody>
    {{#deliveries}}<tr><td>{{received}}</td><td>{{event}}</td><td><span class="badge v-{{verdict}}">{{verdict}}</span>{{^recorded}} <span class="sub">(not stored)</span>{{/recorded}}</td><td>{{reason}}</td><td><code>{{deliveryID}}</code></td></tr>{{/deliveries}}
    {{^deliveries}}<tr><td colspan="5">No deliveries yet.</td></tr>{{/deliveries}}
    </tbody></table></section>{{/bindings}}
    {{^bindings}}<p>No webhook bindings are configured.</p>{{/bindings}}
    """

    static let tokens = """
    <h1>API tokens</h1>
    {{#created}}<div class="once"><p>Your new token <strong>{{name}}</strong>. Copy it now: it is not shown again.</p><pre id="new-token">{{secret}}</pre></div>{{/created}}
    <form method="post" action="/tokens" class="inline">\(csrfField)<label>Name <input name="name" required maxlength="64"></label>
    <label>Role <select name="role">{{#roles}}<option value="{{.}}">{{.}}</option>{{/roles}}</select></label> <button type="submit">Create token</button></form>
    <table class="list"><thead><tr><th>Name</th><th>Owner</th><th>Role</th><th>Created</th><th>State</th><th></th></tr></thead><tbody>
    {{#tokens}}<tr><td>{{name}}</td><td>{{owner}}</td><td>{{role}}</td><td>{{created}}</td><td>{{state}}</td><td>{{#active}}<form method="post" action="/tokens/{{tokenID}}/revoke" class="inline">\(csrfField)<button type="submit" class="danger">Revoke</button></form>{{/active}}</td></tr>{{/tokens}}
    {{^tokens}}<tr><td colspan="6">No tokens yet.</td></tr>{{/tokens}}
    </tbody></table>
    <p class="sub">Use one as <code>Authorization: Bearer &lt;token&gt;</code> (or <code>GANTRY_TOKEN</code> for the CLI). It acts as you, with its role.</p>
    """

    static let users = """
    <h1>Users</h1>
    <table class="list"><thead><tr><th>Name</th><th>Role</th><th>Source</th><th></th></tr></thead><tbody>
    {{#users}}<tr><td>{{name}}</td><td>{{role}}</td><td>{{source}}</td><td>{{#deletable}}<form method="post" action="/users/{{name}}/delete" class="inline">\(csrfField)<button type="submit" class="danger">Delete</button></form>{{/deletable}}</td></tr>{{/users}}
    </tbody></table>
    <h2>Add a user</h2>
    <form method="post" action="/users">\(csrfField)<label>Name <input name="name" required maxlength="64"></label>
    <label>Password <input name="password" type="password" required minlength="8"></label>
    <label>Role <select name="role"><option>viewer</option><option>editor</option><option>admin</option></select></label> <button type="submit">Add user</button></form>
    """

    static let insights = """
    <h1>Insights</h1>
    <form method="get" action="/insights" class="inline filters">
    <label>Application <select name="application"><option value="">all</option>{{#applications}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/applications}}</select></label>
    <label>Label <input name="label" value="{{label}}" placeholder="team=payments"></label>
    <label>Per <select name="period">{{#periods}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/periods}}</select></label>
    <button type="submit">Show</button></form>
    <p class="sub">{{from}} to {{to}} · {{deployments}} finished deployments · <a href="{{apiURL}}">JSON</a></p>
    <div class="charts">{{#charts}}<figure class="chart"><figcaption><strong>{{title}}</strong> <span class="figure">{{summary}}</span><br><span class="sub">{{explain}}</span></figcaption>{{{svg}}}</figure>{{/charts}}</div>
    """

    static let message = """
    <h1>{{heading}}</h1><p>{{text}}</p><p><a href="{{back}}">Back</a></p>
    """
}
