using System.Text.Json;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Api.Mcp;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.Timeline;

/// <summary>
/// The timeline entry of one tool call, written by <see cref="ToolCallPipeline"/> when the call ends: queued, never
/// awaited on the answer's path (<see cref="QueuedSessionTimeline"/>), and never the cause of a failed call.
/// </summary>
public static partial class TimelineCalls
{
    /// <summary>Records the call on its session's timeline; a call that reached no session leaves none.</summary>
    public static void Record(
        IServiceProvider services, string tool, string clientId, string? sessionId, IEnumerable<KeyValuePair<string, JsonElement>>? arguments,
        DateTimeOffset at, TimeSpan duration, string outcome, string? errorCode, ToolCharge charge, ILogger logger)
    {
        if (sessionId is null)
        {
            return;
        }

        try
        {
            var secrets = services.GetService<SecretValues>();
            var entry = new TimelineEntry(
                at,
                TimelineEntryKinds.Call,
                tool,
                clientId,
                TimelineArguments.Mask(arguments, secrets is null ? null : secrets.Redact),
                outcome,
                errorCode,
                (long)duration.TotalMilliseconds,
                charge.CostUsd,
                charge.PageUrl is { } url ? TimelineArguments.MaskUrl(url) : null,
                null);
            _ = services.GetRequiredService<ISessionTimeline>().AppendAsync(sessionId, entry);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRecordFailed(logger, tool, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The timeline entry of a {Tool} call could not be made; the call is unaffected")]
    private static partial void LogRecordFailed(ILogger logger, string tool, Exception exception);
}
