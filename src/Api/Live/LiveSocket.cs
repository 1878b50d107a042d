using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Live;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.Live;

/// <summary>
/// One viewer's WebSocket: frames from the session's silo (an <c>IAsyncEnumerable</c> grain call, so the viewer may
/// reach any silo), input and "Done" from a person in control, and a once-a-second check that ends the view when the
/// link is revoked or expires, the session ends, or the emergency switch trips.
/// </summary>
public static partial class LiveSocket
{
    private const int MaxMessageBytes = 4_096;

    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan SendLimit = TimeSpan.FromSeconds(10);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static async Task<IResult> RunAsync(
        string token, HttpContext http, IGrainFactory grains, EmergencyStopView emergency, LiveMetrics metrics, TimeProvider time, ILogger<LiveLinks> logger)
    {
        if (!http.WebSockets.IsWebSocketRequest || !SameOrigin(http.Request))
        {
            return TypedResults.BadRequest();
        }

        var access = await LiveAccess.CheckAsync(http, token, grains, emergency, openIfNew: false, http.RequestAborted);
        if (access.Link is not { } link)
        {
            return access.Refusal;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var session = grains.GetGrain<IBrowserSessionGrain>(link.SessionId);
        var viewer = new Viewer(socket, time);
        // A hand-off's link takes over the hold its hand-off placed; an operator's control link holds in its own name.
        var holder = link.HandoffId is { } handoff ? LiveControlGate.HandoffHolder(handoff) : access.LinkKey;
        var control = link.Mode == LiveMode.Control && await session.SetControlAsync(holder, held: true, cancellationToken: done.Token);
        if (control)
        {
            LogLive(logger, link.SessionId, "control_taken");
        }

        await viewer.SendAsync(new LiveMessage("state", State: control ? "control" : "live"), done.Token);
        Task[] loops =
        [
            PumpFramesAsync(session, viewer, metrics, time, done.Token),
            ReceiveAsync(session, viewer, holder, control, logger, link.SessionId, done.Token),
            WatchLinkAsync(http, access.LinkKey, link, grains, emergency, time, done.Token),
        ];
        var first = await Task.WhenAny(loops);
        var reason = first is Task<string> { IsCompletedSuccessfully: true } watch ? watch.Result : "ended";

        // Tell the page first (its socket still open), then stop the loops and hand control back.
        await viewer.EndAsync(reason);
        await done.CancelAsync();
        await Task.WhenAll(loops).ContinueWith(static _ => { }, TaskScheduler.Default);
        if (control && await session.SetControlAsync(holder, held: false))
        {
            LogLive(logger, link.SessionId, "control_released");
        }

        return TypedResults.Empty;
    }

    /// <summary>Frames until the session ends or the viewer goes; the screencast stops with the enumeration.</summary>
    private static async Task PumpFramesAsync(IBrowserSessionGrain session, Viewer viewer, LiveMetrics metrics, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in session.WatchAsync(cancellationToken).WithCancellation(cancellationToken))
            {
                await viewer.SendAsync(new LiveMessage("frame", Convert.ToBase64String(frame.Jpeg), frame.Url, frame.Title, frame.Tabs, frame.CurrentTab, frame.ControlHeld), cancellationToken);
                metrics.FrameLag(time.GetUtcNow() - frame.CapturedAt);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The viewer left or the view ended.
        }
    }

    /// <summary>Input and "Done" from the page; returns when the socket closes.</summary>
    private static async Task ReceiveAsync(IBrowserSessionGrain session, Viewer viewer, string holder, bool control, ILogger logger, string sessionId, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxMessageBytes];
        while (!cancellationToken.IsCancellationRequested)
        {
            var message = await viewer.ReceiveAsync(buffer, cancellationToken);
            if (message is null)
            {
                return;
            }

            if (!control)
            {
                continue;
            }

            if (message.T == "done")
            {
                control = false;
                if (await session.SetControlAsync(holder, held: false, cancellationToken: cancellationToken))
                {
                    LogLive(logger, sessionId, "control_released");
                }

                await viewer.SendAsync(new LiveMessage("state", State: "live"), cancellationToken);
            }
            else if (message.T == "input" && message.Input is { } input)
            {
                await session.LiveInputAsync(input, cancellationToken);
            }
        }
    }

    /// <summary>Ends the view within a second of the link's revocation or expiry, the session's end or the switch tripping; answers why.</summary>
    private static async Task<string> WatchLinkAsync(
        HttpContext http, string key, LiveLink link, IGrainFactory grains, EmergencyStopView emergency, TimeProvider time, CancellationToken cancellationToken)
    {
        var cookie = LiveLinks.Hash(http.Request.Cookies[LiveLinks.CookieName] ?? "");
        using var timer = new PeriodicTimer(CheckEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (emergency.State is { Tripped: true })
                {
                    return "emergency_shutdown";
                }

                var check = await grains.GetGrain<ILiveLinkGrain>(key).CheckAsync(cookie, cancellationToken);
                if (check.Link is null)
                {
                    return check.Refusal == LiveLinkRefusal.Expired ? "expired" : "revoked";
                }

                if (await LiveAccess.EndedAsync(link, grains, emergency))
                {
                    return "session_ended";
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The view ended otherwise.
        }

        return "ended";
    }

    private static bool SameOrigin(HttpRequest request) =>
        request.Headers.Origin.ToString() is { Length: > 0 } origin
        && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    /// <summary>One message either way (camelCase JSON): <c>frame</c>, <c>state</c>, <c>ended</c> out; <c>input</c>, <c>done</c> in.</summary>
    private sealed record LiveMessage(
        string T,
        string? Jpeg = null,
        string? Url = null,
        string? Title = null,
        IReadOnlyList<string>? Tabs = null,
        int? Current = null,
        bool? Control = null,
        string? State = null,
        string? Reason = null,
        LiveInput? Input = null);

    /// <summary>The socket, with sends one at a time (frames, state and the end come from different loops).</summary>
    private sealed class Viewer(WebSocket socket, TimeProvider time)
    {
        private readonly SemaphoreSlim _sending = new(1, 1);

        public async Task SendAsync(LiveMessage message, CancellationToken cancellationToken)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(message, Json);
            using var limit = new CancellationTokenSource(SendLimit, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
            await _sending.WaitAsync(either.Token);
            try
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, either.Token);
            }
            finally
            {
                _sending.Release();
            }
        }

        public async Task<LiveMessage?> ReceiveAsync(byte[] buffer, CancellationToken cancellationToken)
        {
            var count = 0;
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    break;
                }

                if (count >= buffer.Length)
                {
                    return null; // Larger than any input event: the page is not ours.
                }
            }

            try
            {
                return JsonSerializer.Deserialize<LiveMessage>(buffer.AsSpan(0, count), Json);
            }
            catch (JsonException)
            {
                return new LiveMessage("invalid");
            }
        }

        /// <summary>Tells the page why the view ended and closes the socket, each within its limit.</summary>
        public async Task EndAsync(string reason)
        {
            if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                return;
            }

            try
            {
                await SendAsync(new LiveMessage("ended", Reason: reason), CancellationToken.None);
                using var limit = new CancellationTokenSource(SendLimit, time);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, limit.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The viewer is gone already.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: {LiveEvent} for session {SessionId}")]
    private static partial void LogLive(ILogger logger, string sessionId, string liveEvent);
}
