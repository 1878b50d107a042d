using System.Collections.Concurrent;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Bench.SideBySide;

/// <summary>The steady per-session work of figures 4 and 6: navigate to the form, type into it, click its button.</summary>
public static class Workload
{
    public static async Task RoundAsync(McpClient client, string session, string url, ConcurrentBag<double> latencies)
    {
        var (nav, snapshot) = await Calls.TimedAsync(client, "browser_navigate", new { url, session_id = session });
        var (typed, _) = await Calls.TimedAsync(client, "browser_type", new { element = "Name", target = Calls.RefOf(snapshot, "textbox", "Name"), text = "bench", session_id = session });
        var (clicked, _) = await Calls.TimedAsync(client, "browser_click", new { element = "Greet", target = Calls.RefOf(snapshot, "button", "Greet"), session_id = session });
        latencies.Add(nav);
        latencies.Add(typed);
        latencies.Add(clicked);
    }
}
