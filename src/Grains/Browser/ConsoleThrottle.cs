using System.Globalization;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// Stops a console flood inside the page, before it reaches the silo's one Playwright driver connection, which every
/// session of the silo shares: 100,000 <c>console.log</c> calls otherwise cross it one event each and hold up every
/// other session's calls for seconds. Each document may log <see cref="Burst"/> messages at once and
/// <see cref="PerSecond"/> a second after that; the rest are dropped in the page and counted, and at most once a second
/// one warning says how many (<c>anchor: N console messages were dropped …</c>), which the agent reads with the others.
/// </summary>
/// <remarks>
/// An init script of the context: it runs in every frame before the page's own scripts, and keeps the clock, the timer
/// and the console's methods it found then, so the page cannot reach the originals or the throttle's state. It does not
/// run in workers: a worker's console flood still reaches the driver (a driver per tenant would be the full answer).
/// </remarks>
public static class ConsoleThrottle
{
    /// <summary>Messages a document may log at once.</summary>
    public const int Burst = 200;

    /// <summary>Messages a document may log each second past the burst.</summary>
    public const int PerSecond = 50;

    /// <summary>The script, for <c>IBrowserContext.AddInitScriptAsync</c>.</summary>
    public static readonly string Script = string.Create(CultureInfo.InvariantCulture, $$"""
        (() => {
          const c = globalThis.console;
          if (!c) return;
          const now = performance.now.bind(performance);
          const later = globalThis.setTimeout.bind(globalThis);
          const apply = Reflect.apply, min = Math.min, define = Object.defineProperty;
          const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'dirxml', 'table', 'count', 'assert', 'group', 'groupCollapsed', 'timeLog'];
          const warn = c.warn;
          let tokens = {{Burst}}, last = now(), dropped = 0, reporting = false;
          const report = () => {
            reporting = false;
            const n = dropped;
            dropped = 0;
            if (n > 0) apply(warn, c, [`anchor: ${n} console messages were dropped (a page may log {{Burst}} at once and {{PerSecond}} a second)`]);
          };
          for (const name of methods) {
            const original = c[name];
            if (typeof original !== 'function') continue;
            const throttled = function (...args) {
              const t = now();
              tokens = min({{Burst}}, tokens + (t - last) * {{PerSecond}} / 1000);
              last = t;
              if (tokens >= 1) {
                tokens -= 1;
                return apply(original, c, args);
              }
              dropped++;
              if (!reporting) {
                reporting = true;
                later(report, 1000);
              }
            };
            define(c, name, { value: throttled, writable: false, configurable: false, enumerable: true });
          }
        })();
        """);
}
