using Anchor.Orleans.Grains.Interfaces.Live;
using Microsoft.AspNetCore.Http;

namespace Anchor.Orleans.Api.Live;

/// <summary>
/// The live page: one self-contained document (inline CSS and script, no external assets, so it works air-gapped).
/// Test hooks: the frame <c>&lt;img data-live-frame data-frames="n"&gt;</c> and <c>&lt;body data-state="connecting|live|control|ended"&gt;</c>.
/// Keyboard: Tab reaches "Done" and the frame; in control, keys typed on the focused frame go to the page (Shift+Tab leaves it).
/// </summary>
public static class LivePage
{
    /// <summary>No caching, no referrer (the URL is a credential), no framing, nothing loaded from elsewhere.</summary>
    public static void SetHeaders(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers["X-Frame-Options"] = "DENY";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers.ContentSecurityPolicy =
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    public static string Html(LiveMode mode) => Template.Replace("{{MODE}}", mode == LiveMode.Control ? "control" : "view", StringComparison.Ordinal);

    private const string Template = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="referrer" content="no-referrer">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Live session — Anchor</title>
        <style>
          :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
          body { margin: 0; display: flex; flex-direction: column; min-height: 100vh; }
          header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid #8884; flex-wrap: wrap; }
          #state { font-weight: 600; padding: .1rem .5rem; border-radius: .3rem; background: #8883; }
          body[data-state="live"] #state { background: #2a72; }
          body[data-state="control"] #state { background: #d802; }
          body[data-state="ended"] #state { background: #c002; }
          #title { font-weight: 600; }
          #url { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
          #tabs { display: flex; gap: .5rem; list-style: none; margin: 0; padding: .25rem 1rem; font-size: .85rem; }
          #tabs li[aria-current="true"] { font-weight: 700; }
          main { flex: 1; display: flex; justify-content: center; align-items: flex-start; padding: .5rem; }
          img { max-width: 100%; height: auto; border: 1px solid #8886; }
          img:focus-visible, button:focus-visible { outline: 3px solid #36f; outline-offset: 2px; }
          body[data-state="control"] img { cursor: crosshair; border-color: #d80; }
          button { font: inherit; padding: .3rem .9rem; }
        </style>
        </head>
        <body data-state="connecting" data-mode="{{MODE}}">
        <header>
          <span id="state" role="status" aria-live="polite">Connecting…</span>
          <span id="title"></span>
          <span id="url"></span>
          <button id="done" type="button" hidden>Done — hand back control</button>
        </header>
        <nav aria-label="Tabs"><ol id="tabs"></ol></nav>
        <main>
          <img id="frame" data-live-frame data-frames="0" tabindex="0" alt="The session's current tab, live">
        </main>
        <script>
        (() => {
          const body = document.body, img = document.getElementById('frame'), done = document.getElementById('done');
          const stateText = document.getElementById('state'), titleEl = document.getElementById('title'), urlEl = document.getElementById('url'), tabsEl = document.getElementById('tabs');
          const labels = { connecting: 'Connecting…', live: 'Live', control: 'You are in control', ended: 'Ended' };
          let frames = 0;
          const setState = (s, why) => {
            if (body.dataset.state === 'ended') return;
            body.dataset.state = s;
            stateText.textContent = labels[s] + (why ? ' (' + why.replace(/_/g, ' ') + ')' : '');
            done.hidden = s !== 'control';
          };
          img.addEventListener('load', () => { frames++; img.dataset.frames = String(frames); });
          const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + location.pathname.replace(/\/$/, '') + '/ws');
          const send = m => { if (ws.readyState === 1 && body.dataset.state === 'control') ws.send(JSON.stringify(m)); };
          ws.onmessage = e => {
            const m = JSON.parse(e.data);
            if (m.t === 'frame') {
              if (body.dataset.state === 'ended') return;
              img.src = 'data:image/jpeg;base64,' + m.jpeg;
              titleEl.textContent = m.title || '';
              urlEl.textContent = m.url || '';
              tabsEl.replaceChildren(...(m.tabs || []).map((u, i) => { const li = document.createElement('li'); li.textContent = u; if (i === m.current) li.setAttribute('aria-current', 'true'); return li; }));
            } else if (m.t === 'state') {
              setState(m.state);
            } else if (m.t === 'ended') {
              setState('ended', m.reason);
              ws.close();
            }
          };
          ws.onclose = () => setState('ended');
          done.addEventListener('click', () => { send({ t: 'done' }); });
          const at = e => { const r = img.getBoundingClientRect(); return { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height }; };
          const mods = e => (e.altKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.metaKey ? 4 : 0) | (e.shiftKey ? 8 : 0);
          const button = b => ['left', 'middle', 'right'][b] || 'none';
          img.addEventListener('mousedown', e => { img.focus({ preventScroll: true }); // a scroll now would move the release off the press.
           e.preventDefault(); send({ t: 'input', input: { kind: 'mouse', type: 'mousePressed', ...at(e), button: button(e.button), clickCount: e.detail || 1, modifiers: mods(e) } }); });
          img.addEventListener('mouseup', e => { send({ t: 'input', input: { kind: 'mouse', type: 'mouseReleased', ...at(e), button: button(e.button), clickCount: e.detail || 1, modifiers: mods(e) } }); });
          let lastMove = 0;
          img.addEventListener('mousemove', e => { const now = performance.now(); if (now - lastMove < 50) return; lastMove = now; send({ t: 'input', input: { kind: 'mouse', type: 'mouseMoved', ...at(e), button: 'none', modifiers: mods(e) } }); });
          img.addEventListener('wheel', e => { if (body.dataset.state !== 'control') return; e.preventDefault(); send({ t: 'input', input: { kind: 'wheel', type: 'mouseWheel', ...at(e), deltaX: e.deltaX, deltaY: e.deltaY, modifiers: mods(e) } }); }, { passive: false });
          img.addEventListener('contextmenu', e => { if (body.dataset.state === 'control') e.preventDefault(); });
          const key = type => e => {
            if (body.dataset.state !== 'control' || (e.key === 'Tab' && e.shiftKey)) return;
            e.preventDefault();
            send({ t: 'input', input: { kind: 'key', type, key: e.key, code: e.code, modifiers: mods(e) } });
          };
          img.addEventListener('keydown', key('keyDown'));
          img.addEventListener('keyup', key('keyUp'));
        })();
        </script>
        </body>
        </html>
        """;
}
