using System.Collections.Concurrent;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Testing;

/// <summary>
/// A tool call left running (e.g. a session request waiting in the fair queue) whose MCP progress notifications are
/// recorded as they arrive, so a test can wait for "queued at position N" before starting the next one.
/// </summary>
/// <remarks>
/// The SDK client handles each incoming message on its own (fire and forget), so a notification sent just before the
/// answer may be handled just after it, and the handler <c>CallToolAsync(…, progress)</c> registers is gone by then:
/// the notification would be lost. This handler lives as long as the client, and keeps the messages in the server's
/// order (the progress value grows with each notification).
/// </remarks>
public sealed class QueuedCall
{
    private readonly Recorder _progress = new();

    private QueuedCall(string tool) => Tool = tool;

    public string Tool { get; }

    public Task<CallToolResult> Call { get; private set; } = null!;

    public IReadOnlyList<string> Progress => _progress.Messages;

    /// <summary>The result once the call answered (null before).</summary>
    public CallToolResult? Result => Call.IsCompletedSuccessfully ? Call.Result : null;

    public static QueuedCall Start(McpClient client, string tool, object? arguments = null, CancellationToken cancellationToken = default)
    {
        var call = new QueuedCall(tool);
        var token = new ProgressToken(Guid.NewGuid().ToString("N"));
        _ = client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, (notification, _) =>
        {
            if (JsonSerializer.Deserialize<ProgressNotificationParams>(notification.Params, McpJsonUtilities.DefaultOptions) is { } progress && progress.ProgressToken == token)
            {
                call._progress.Report(progress.Progress);
            }

            return default;
        });
        var args = arguments is null ? [] : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(arguments))!;
        call.Call = client.CallToolAsync(new CallToolRequestParams { Name = tool, Arguments = args, Meta = new() { ["progressToken"] = token.ToString() } }, cancellationToken).AsTask();
        return call;
    }

    /// <summary>Waits for a progress notification saying the call is queued at <paramref name="position"/> (e.g. "position 2 of 3").</summary>
    public async Task QueuedAsync(string position, TimeSpan timeout)
    {
        try
        {
            await Poll.UntilAsync(
                () => Progress.Any(m => m.StartsWith($"queued for a browser session slot: {position},", StringComparison.Ordinal)) || Call.IsCompleted,
                timeout,
                $"{Tool} to report '{position}'");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} (got: {string.Join(" | ", Progress)})", ex);
        }

        if (Call.IsCompleted)
        {
            throw new InvalidOperationException($"{Tool} answered instead of reporting '{position}': {(Call.IsCompletedSuccessfully ? Call.Result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text : Call.Exception?.GetBaseException().Message)} (progress: {string.Join(" | ", Progress)})");
        }
    }

    /// <summary>Progress notifications in the order the server sent them (by their progress value).</summary>
    private sealed class Recorder
    {
        private readonly ConcurrentQueue<ProgressNotificationValue> _values = new();

        public IReadOnlyList<string> Messages => [.. _values.OrderBy(v => v.Progress).Select(v => v.Message ?? "")];

        public void Report(ProgressNotificationValue value) => _values.Enqueue(value);
    }
}
