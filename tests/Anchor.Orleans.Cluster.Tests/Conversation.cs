using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>The 30 mixed tool calls an agent makes in one browser session (forms, waits, snapshots, extraction, governance).</summary>
public static class Conversation
{
    public const int Calls = 30;

    public static IEnumerable<(string Tool, object Arguments)> Steps(FixtureSite site, string sessionId)
    {
        for (var round = 0; round < Calls / 10; round++)
        {
            var name = $"Agent {round}";
            yield return ("browser_navigate", new { session_id = sessionId, url = site.Url("/form") });
            yield return ("browser_type", new { session_id = sessionId, target = "#name", text = name, element = "Name box" });
            yield return ("browser_select_option", new { session_id = sessionId, target = "#color", values = new[] { "blue" } });
            yield return ("browser_click", new { session_id = sessionId, target = "#greet", element = "Greet" });
            yield return ("browser_wait_for", new { session_id = sessionId, text = $"Hello, {name} in blue" });
            yield return ("browser_hover", new { session_id = sessionId, target = "#tip" });
            yield return ("browser_snapshot", new { session_id = sessionId });
            yield return ("browser_navigate", new { session_id = sessionId, url = site.Url("/list") });
            yield return ("browser_extract", new { session_id = sessionId, item_selector = ".item", fields = new Dictionary<string, string> { ["name"] = "h2" } });
            yield return ("budget_status", new { });
        }
    }

    /// <summary>Runs the conversation; answers the failures (tool and text), empty when every call succeeded.</summary>
    public static async Task<List<string>> RunAsync(McpClient client, FixtureSite site, string sessionId, Func<int, Task>? afterCall = null)
    {
        var failures = new List<string>();
        var index = 0;
        foreach (var (tool, arguments) in Steps(site, sessionId))
        {
            CallToolResult result;
            try
            {
                result = await client.CallAsync(tool, arguments);
                if (result.IsError == true)
                {
                    failures.Add($"{tool}: {result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text}");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add($"{tool}: {ex.GetType().Name}: {ex.Message}");
            }

            if (afterCall is not null)
            {
                await afterCall(++index);
            }
        }

        return failures;
    }
}
