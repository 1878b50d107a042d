namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// The console's only assets, served from the console itself (no CDN: it works air-gapped): one stylesheet, and one
/// small script that refreshes the parts of a page marked <c>data-refresh</c> every second.
/// </summary>
public static class ConsoleAssets
{
    public const string Css = """
        :root { color-scheme: light; --fg: #1b1f24; --muted: #4a5360; --bg: #ffffff; --panel: #f3f5f8; --line: #c9d0d9;
          --accent: #0b57d0; --danger: #b3261e; --ok: #146c2e; --warn: #8a5300; --focus: #ffbf47; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
          outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--fg); }
        .skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: #fff; padding: .5rem 1rem; }
        .skip:focus { left: .5rem; z-index: 10; }
        .top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem; background: #16202c; color: #fff; }
        .top a { color: #fff; }
        .brand { font-weight: 700; }
        .top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
        .top nav a { text-decoration: none; padding: .2rem .1rem; }
        .top nav a[aria-current="page"] { border-bottom: 3px solid var(--focus); font-weight: 600; }
        .who { margin-left: auto; display: flex; gap: .6rem; align-items: center; }
        main { padding: 1rem; max-width: 1400px; }
        h1 { font-size: 1.5rem; margin: .3rem 0 1rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.15rem; margin: 1.4rem 0 .5rem; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; }
        .card h2 { margin-top: 0; }
        .big { font-size: 1.6rem; font-weight: 700; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: var(--panel); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .url, .args { word-break: break-all; max-width: 28rem; }
        code { font-size: .9em; }
        button, .button { font: inherit; padding: .35rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; text-decoration: none; display: inline-block; }
        button.secondary, .button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: var(--danger); border-color: var(--danger); }
        .top button { background: #fff; color: #16202c; border-color: #fff; }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; }
        .actions form { margin: 0; }
        label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
        input[type=text], input[type=password], select { font: inherit; padding: .4rem; border: 1px solid var(--muted); border-radius: 4px; width: 100%; max-width: 32rem; }
        .notice { padding: .6rem .8rem; border-left: 4px solid var(--ok); background: #e7f4ea; }
        .notice.error { border-color: var(--danger); background: #fbe9e7; }
        .state-ok { color: var(--ok); font-weight: 600; }
        .state-bad { color: var(--danger); font-weight: 600; }
        .state-warn { color: var(--warn); font-weight: 600; }
        .bar { margin: .4rem 0 .8rem; }
        .bar figcaption { font-size: .95rem; }
        .bar svg { display: block; width: 100%; height: 14px; }
        .bar .track { fill: #dfe4ea; }
        .bar .fill.low { fill: var(--ok); }
        .bar .fill.mid { fill: var(--warn); }
        .bar .fill.high { fill: var(--danger); }
        .muted { color: var(--muted); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
        dl.facts dt { font-weight: 600; }
        dl.facts dd { margin: 0; }
        .signin { max-width: 34rem; }
        @media (max-width: 600px) {
          main { padding: .6rem; }
          .who { margin-left: 0; }
          th, td { padding: .3rem; font-size: .9rem; }
        }
        """;

    public const string Script = """
        "use strict";
        // Refreshes every element marked data-refresh="<fragment url>" every second; a sign-in that ended sends the page to sign in again.
        (function () {
          const parts = document.querySelectorAll("[data-refresh]");
          if (parts.length === 0) return;
          async function refresh() {
            for (const part of parts) {
              try {
                const response = await fetch(part.dataset.refresh, { credentials: "same-origin", cache: "no-store" });
                if (response.redirected || response.status === 401 || response.status === 403) { location.assign("/console/sign-in"); return; }
                if (response.ok) { part.innerHTML = await response.text(); part.dataset.refreshedAt = String(Date.now()); }
              } catch (e) { /* the next tick tries again */ }
            }
          }
          setInterval(refresh, 1000);
        })();
        """;
}
