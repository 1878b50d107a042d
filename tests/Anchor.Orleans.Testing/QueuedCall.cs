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
        var args = arguments is null ? new Dictionary<string, object?>() : JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
        call.Call = client.CallToolAsync(tool, args, call._progress, cancellationToken: cancellationToken).AsTask();
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

    /// <summary>Progress notifications as they arrive (a synchronous <see cref="IProgress{T}"/>, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class Recorder : IProgress<ProgressNotificationValue>
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => [.. _messages];

        public void Report(ProgressNotificationValue value) => _messages.Enqueue(value.Message ?? "");
    }
}
