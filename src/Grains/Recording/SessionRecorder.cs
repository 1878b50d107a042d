using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Clients;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Records the sessions of clients with <c>Recording</c> = <c>trace</c>: starts Playwright tracing (screenshots, DOM
/// snapshots) when a session's browser context opens on this silo, and when it closes here (however the session ended,
/// or moved away) stops it into a temporary file under the silo's temp directory, hides credentials in its network log,
/// caps it and stores it as one chunk.
/// Never fails or holds up a session beyond its bounds: a failure is logged once and the session goes on unrecorded.
/// </summary>
public sealed partial class SessionRecorder(
    ClientPolicies policies, ISessionTraceStore store, IOptionsMonitor<RecordingOptions> options, TimeProvider time, ILogger<SessionRecorder> logger)
{
    /// <summary>How long starting a trace may take.</summary>
    public static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(5);

    /// <summary>How long writing a trace out may take (its snapshots and screenshots are packed then).</summary>
    public static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(10);

    /// <summary>Starts tracing <paramref name="page"/> when its client records; null when it does not, or tracing could not start.</summary>
    public async Task<TraceRecording?> StartAsync(BrowserPage page, string sessionId, string clientId, CancellationToken cancellationToken)
    {
        if (policies.For(clientId).Recording != SessionRecording.Trace)
        {
            return null;
        }

        try
        {
            await page.Context.Tracing.StartAsync(new() { Screenshots = true, Snapshots = true, Title = sessionId })
                .WaitAsync(StartLimit, time, cancellationToken);
            return new TraceRecording(page, sessionId, clientId);
        }
        catch (Exception ex)
        {
            LogStartFailed(logger, sessionId, clientId, ex);
            return null;
        }
    }

    /// <summary>Stops <paramref name="recording"/> (before its context closes) and stores what it holds; never throws.</summary>
    public async Task StopAsync(TraceRecording recording)
    {
        var path = Path.Combine(Path.GetTempPath(), $"anchor-trace-{Guid.NewGuid():N}.zip");
        var stop = recording.Page.Context.Tracing.StopAsync(new() { Path = path });
        try
        {
            await stop.WaitAsync(StopLimit, time);
            var (zip, truncated) = TraceZip.Prepare(() => File.OpenRead(path), options.CurrentValue.MaxTraceBytes);
            await store.SaveAsync(new SessionTrace(recording.SessionId, recording.ClientId, zip, truncated, time.GetUtcNow()));
            LogStored(logger, recording.SessionId, zip.Length, truncated);
        }
        catch (Exception ex)
        {
            // The context may be gone with its browser, the trace too slow to write, or storage unreachable.
            LogStopFailed(logger, recording.SessionId, recording.ClientId, ex);
        }
        finally
        {
            // A stop that outlived its limit may still write the file: it is removed once it did.
            _ = stop.ContinueWith(_ => Delete(path), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The temp directory is an emptyDir: a file left behind goes with the pod.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of client {ClientId}: tracing could not start; the session goes on unrecorded")]
    private static partial void LogStartFailed(ILogger logger, string sessionId, string clientId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of client {ClientId}: the trace could not be written or stored; this chunk is lost")]
    private static partial void LogStopFailed(ILogger logger, string sessionId, string clientId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: trace stored ({Bytes} bytes, truncated: {Truncated})")]
    private static partial void LogStored(ILogger logger, string sessionId, int bytes, bool truncated);
}

/// <summary>A trace running on one session's browser context on this silo.</summary>
public sealed record TraceRecording(BrowserPage Page, string SessionId, string ClientId);
