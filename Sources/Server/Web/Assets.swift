/// The one stylesheet and the one small script, embedded like the templates (no build step, no npm).
enum Assets {
    static let stylesheet = """
    :root { --fg:#1d2330; --sub:#5d6678; --line:#dfe3ea; --bg:#f6f7f9; --ok:#1f8a4c; --bad:#c0392b; --run:#1f6fd1; --wait:#b7791f; --off:#8a93a3; }
    * { box-sizing: border-box; }
    body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
    header.top { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.5rem; background:#1d2330; color:#fff; }
    header.top a { color:#dfe6f3; text-decoration:none; margin-right:1rem; } header.top .brand { font-weight:700; color:#fff; }
    header.top nav { flex:1; } header.top .who { color:#c5ccd8; display:flex; gap:.5rem; align-items:center; }
    main { max-width:1200px; margin:1.5rem auto; padding:0 1.5rem; }
    h1 { font-size:1.5rem; margin:.2rem 0 .6rem; } h2 { font-size:1.15rem; margin-top:1.6rem; } h1 a { color:inherit; }
    .sub { color:var(--sub); font-size:.85rem; } code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size:.85rem; }
    table.list { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
    table.list th, table.list td { text-align:left; padding:.5rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
    table.list th { background:#eef1f5; font-weight:600; font-size:.85rem; }
    .badge { display:inline-block; padding:.05rem .45rem; border-radius:.7rem; font-size:.75rem; font-weight:600; background:#e4e7ec; color:var(--fg); }
    .s-SUCCESS, .state-synced, .v-accepted { background:#dff3e7; color:var(--ok); }
    .s-FAILURE, .state-invalid, .state-failed { background:#fbe3e0; color:var(--bad); }
    .s-RUNNING, .s-ROLLING_BACK, .state-deploying { background:#e1ecfb; color:var(--run); }
    .s-SUSPENDED, .s-PLANNED, .s-PENDING, .state-out-of-sync { background:#fbf0dc; color:var(--wait); }
    .s-CANCELLED, .s-SKIPPED, .s-EXITED, .s-NOT_STARTED, .v-ignored { background:#eceef2; color:var(--off); }
    .config-error, .error { color:var(--bad); white-space:pre-wrap; } .config-warning { color:var(--wait); white-space:pre-wrap; margin:.2rem 0; } .error, .notice { padding:.5rem .8rem; border-radius:.3rem; }
    .error { background:#fbe3e0; } .notice { background:#e1ecfb; } .reason { color:var(--sub); }
    form.inline { display:inline-flex; gap:.4rem; align-items:center; margin:.2rem .4rem .2rem 0; }
    button { font:inherit; padding:.3rem .8rem; border:1px solid #b9c0cc; border-radius:.3rem; background:#fff; cursor:pointer; }
    button.primary { background:var(--run); border-color:var(--run); color:#fff; } button.danger { color:var(--bad); border-color:#e5b4ad; }
    input, select { font:inherit; padding:.25rem .4rem; border:1px solid #b9c0cc; border-radius:.3rem; }
    .login { max-width:22rem; margin:4rem auto; background:#fff; padding:1.5rem; border:1px solid var(--line); border-radius:.5rem; }
    .login label, form label { display:block; margin:.5rem 0; } form.inline label { display:inline-block; margin:0; }
    ol.graph { list-style:none; display:flex; flex-wrap:wrap; gap:1.6rem; padding:0; margin:1rem 0; }
    ol.graph li.stage { position:relative; min-width:11rem; background:#fff; border:1px solid var(--line); border-left:5px solid var(--off); border-radius:.4rem; padding:.5rem .7rem; }
    ol.graph li.stage + li.stage::before { content:"→"; position:absolute; left:-1.35rem; top:.8rem; color:var(--sub); }
    li.s-SUCCESS { border-left-color:var(--ok) !important; } li.s-FAILURE { border-left-color:var(--bad) !important; }
    li.s-RUNNING { border-left-color:var(--run) !important; } li.s-SUSPENDED { border-left-color:var(--wait) !important; }
    li.stage .name { font-weight:600; } li.stage .msg { font-size:.8rem; color:var(--sub); max-width:16rem; overflow-wrap:anywhere; }
    ol.graph.rollback li.stage { border-style:dashed; }
    details.log { background:#fff; border:1px solid var(--line); border-radius:.3rem; margin:.4rem 0; }
    details.log summary { padding:.35rem .7rem; cursor:pointer; font-weight:600; }
    details.log pre { margin:0; padding:.5rem .7rem; max-height:22rem; overflow:auto; background:#10141c; color:#d6deeb; white-space:pre-wrap; }
    .once { background:#fff8e1; border:1px solid #f0d48a; padding:.6rem .9rem; border-radius:.3rem; } .once pre { user-select:all; }
    .charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(520px, 1fr)); gap:1rem; }
    figure.chart { margin:0; background:#fff; border:1px solid var(--line); border-radius:.4rem; padding:.7rem; }
    figure.chart .figure { font-size:1.2rem; font-weight:700; margin-left:.4rem; }
    svg.bars rect.bar { fill:var(--run); } svg.bars text { font-size:10px; fill:var(--sub); } svg.bars line { stroke:var(--line); }
    """

    /// Live updates: a page with `data-live` subscribes to its Server-Sent Events. A `pipeline` event carries the
    /// re-rendered stage graph, `rows` the applications' rows, a `log` event one log line, `done` the end. EventSource reconnects by itself
    /// and sends the last log id, so no line is shown twice or lost.
    static let script = """
    (function () {
      var root = document.querySelector('[data-live]');
      if (!root || !window.EventSource) return;
      var source = new EventSource(root.getAttribute('data-live'));
      source.addEventListener('pipeline', function (e) {
        document.getElementById('pipeline').innerHTML = e.data;
      });
      source.addEventListener('rows', function (e) {
        document.getElementById('apps').innerHTML = e.data;
      });
      source.addEventListener('log', function (e) {
        var m = JSON.parse(e.data), pre = document.getElementById('log-' + m.stage);
        if (pre) { pre.textContent += m.line + '\\n'; pre.scrollTop = pre.scrollHeight; }
      });
      source.addEventListener('done', function () { source.close(); root.setAttribute('data-live-state', 'done'); });
      source.addEventListener('open', function () { root.setAttribute('data-live-state', 'open'); });
    })();
    """
}
