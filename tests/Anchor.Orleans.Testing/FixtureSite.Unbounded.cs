using System.Globalization;
using Microsoft.AspNetCore.Builder;

namespace Anchor.Orleans.Testing;

/// <summary>
/// Pages that make work without end for whoever reads them: a snapshot on which a backtracking regex runs for
/// minutes, an extraction whose text is O(n²), a console flood, a popup storm. Each takes its size in the query.
/// </summary>
public sealed partial class FixtureSite
{
    /// <summary>Paragraphs of <c>a</c>s ended by <c>!</c>: <c>(a+)+$</c> backtracks exponentially on every one.</summary>
    public static string Backtracking(int lines, int runLength) =>
        string.Create(CultureInfo.InvariantCulture, $"<!doctype html><title>Backtracking</title><body><script>const p = 'a'.repeat({runLength}) + '!'; for (let i = 0; i < {lines}; i++) {{ const e = document.createElement('p'); e.textContent = p; document.body.append(e); }} document.body.append(Object.assign(document.createElement('h1'), {{ textContent: 'Last line' }}));</script>");

    /// <summary>
    /// <paramref name="depth"/> nested divs, each with <paramref name="chars"/> characters of its own text: the text of
    /// every div holds the text of all below it, so reading each one is O(n²) characters.
    /// </summary>
    public static string Nested(int depth, int chars) =>
        string.Create(CultureInfo.InvariantCulture, $"<!doctype html><title>Nested</title><body><script>let at = document.body; for (let i = 0; i < {depth}; i++) {{ const d = document.createElement('div'); d.append('n' + i + ' ' + 'x'.repeat({chars})); at.append(d); at = d; }}</script></body>");

    /// <summary>Logs <paramref name="count"/> console messages of <paramref name="chars"/> characters on load, then says so.</summary>
    public static string ConsoleFlood(int count, int chars) =>
        string.Create(CultureInfo.InvariantCulture, $"<!doctype html><title>Console flood</title><p id=\"s\">flooding</p><script>const pad = 'y'.repeat({chars}); for (let i = 0; i < {count}; i++) console.log('flood ' + i + ' ' + pad); console.log('flood done'); document.getElementById('s').textContent = 'flooded';</script>");

    /// <summary>Opens <paramref name="count"/> windows at once, just after it loaded.</summary>
    public static string PopupStorm(int count) =>
        string.Create(CultureInfo.InvariantCulture, $"<!doctype html><title>Popup storm</title><p>Storm</p><script>addEventListener('load', () => setTimeout(() => {{ for (let i = 0; i < {count}; i++) window.open('/b?storm=' + i); }}, 50));</script>");

    private static void MapUnboundedPages(WebApplication app)
    {
        app.MapGet("/backtracking", (int lines, int run) => Html(Backtracking(lines, run)));
        app.MapGet("/nested", (int depth, int chars) => Html(Nested(depth, chars)));
        app.MapGet("/console-flood", (int count, int chars) => Html(ConsoleFlood(count, chars)));
        app.MapGet("/popup-storm", (int count) => Html(PopupStorm(count)));
    }
}
