using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Live;
using Anchor.Orleans.Api.Recording;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Recording;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// One session: its facts while open, its timeline (every call with masked arguments, outcome, duration, cost, URL
/// after, and the session's events), the JSON export, the trace when one was recorded; watch live, take control, close.
/// </summary>
public static partial class SessionPage
{
    public static async Task<IResult> PageAsync(
        HttpContext http, string sessionId, IGrainFactory grains, ISessionTimeline timeline, ISessionRecordings recordings, TimeProvider time, string? notice, CancellationToken cancellationToken)
    {
        var info = await grains.GetGrain<IBrowserSessionGrain>(sessionId).GetInfoAsync(null);
        var view = await timeline.ReadAsync(sessionId, cancellationToken);
        var trace = await recordings.ReadTraceAsync(sessionId, cancellationToken);
        if (info is null && view is null)
        {
            return ConsoleLayout.Page(http, ConsolePage.Sessions, "Session not found",
                Html.Of($"""<p>No open session and no kept timeline for <code>{sessionId}</code>.</p><p><a href="{ConsolePaths.Sessions}">Back to sessions</a></p>"""),
                StatusCodes.Status404NotFound);
        }

        var path = ConsolePaths.Session(sessionId);
        var facts = info is null
            ? Html.Of($"""<p class="muted" data-session-state="ended">Not open: ended (its timeline is kept below).</p>""")
            : Html.Of($"""
                <dl class="facts" data-session-state="open">
                  <dt>Client</dt><dd>{info.ClientId}</dd><dt>Silo</dt><dd><code>{info.Silo}</code></dd>
                  <dt>Opened</dt><dd>{ConsoleLayout.Time(info.OpenedAt)} ({ConsoleLayout.Age(time.GetUtcNow() - info.OpenedAt)} ago)</dd>
                  <dt>Current URL</dt><dd class="url">{ConsoleLayout.Url(info.Url)}</dd><dt>Actions</dt><dd>{info.Actions}</dd>
                  <dt>Cost so far</dt><dd>{ConsoleLayout.Usd(info.CostUsd)}</dd><dt>Running</dt><dd>{info.Running ?? "nothing"}</dd>
                </dl>
                <div class="actions">
                  <form method="post" action="{path}/live" target="_blank">{ConsoleLayout.Token(http)}<input type="hidden" name="mode" value="view"><button type="submit">Watch live</button></form>
                  <form method="post" action="{path}/live" target="_blank">{ConsoleLayout.Token(http)}<input type="hidden" name="mode" value="control"><button type="submit" class="secondary">Take control</button></form>
                  <form method="post" action="{path}/close">{ConsoleLayout.Token(http)}<button type="submit" class="danger">Close session</button></form>
                </div>
                """);
        var export = view is null ? Html.Empty : Html.Of($"""<a class="button secondary" href="{path}/timeline.json" download>Export JSON</a>""");
        var download = trace is null ? Html.Empty : Html.Of($"""<a class="button secondary" href="{path}/trace.zip" download>Download trace.zip</a>""");
        var downloads = Html.Of($"""<div class="actions">{export}{download}</div>""");
        return ConsoleLayout.Page(http, ConsolePage.Sessions, $"Session {sessionId}", Html.Of($"""
            {ConsoleLayout.Notice(notice)}
            {facts}
            <section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2>{downloads}{Timeline(view)}</section>
            """));
    }

    /// <summary>The timeline as a table, or "no timeline kept".</summary>
    public static Html Timeline(SessionTimelineView? view)
    {
        if (view is null)
        {
            return Html.Of($"""<p class="muted" data-no-timeline>No timeline kept.</p>""");
        }

        var rows = Html.Join(view.Entries.Select(e => Html.Of($"""
            <tr data-kind="{e.Kind}" data-name="{e.Name}"><td>{ConsoleLayout.Time(e.At)}</td><td>{(e.Kind == TimelineEntryKinds.Event ? "event: " : "")}{e.Name}</td>
            <td class="args">{Arguments(e.Arguments)}</td><td>{e.Outcome}{(e.ErrorCode is null ? "" : " (" + e.ErrorCode + ")")}{(e.Detail is null ? "" : " — " + e.Detail)}</td>
            <td class="num">{(e.DurationMs is { } ms ? ms + " ms" : "")}</td><td class="num" data-cost>{ConsoleLayout.Usd(e.CostUsd)}</td><td class="url">{e.Url}</td></tr>
            """)));
        var truncated = view.Truncated == 0 ? Html.Empty : Html.Of($"""<p class="muted">{view.Truncated} older steps were dropped to keep the bound.</p>""");
        return Html.Of($"""
            <p>Total cost <strong data-total-cost>{ConsoleLayout.Usd(view.TotalCostUsd)}</strong> over {view.Entries.Count} steps.</p>{truncated}
            {ConsoleLayout.Table("Timeline", ["Time", "Tool or event", "Arguments", "Outcome", "#Duration", "#Cost", "URL after"], rows)}
            """);
    }

    private static string Arguments(IReadOnlyDictionary<string, string?>? arguments) =>
        arguments is null ? "" : string.Join(", ", arguments.Select(a => $"{a.Key}={a.Value}"));

    /// <summary>The kept timeline as JSON (the API's naming), for download.</summary>
    public static async Task<Results<JsonHttpResult<SessionTimelineView>, NotFound>> ExportAsync(HttpContext http, string sessionId, ISessionTimeline timeline, CancellationToken cancellationToken)
    {
        if (await timeline.ReadAsync(sessionId, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{sessionId}-timeline.json\"";
        return TypedResults.Json(view);
    }

    /// <summary>The recorded trace, the same bytes <c>GET /api/sessions/{id}/trace.zip</c> serves.</summary>
    public static async Task<Results<FileContentHttpResult, NotFound>> TraceAsync(HttpContext http, string sessionId, ISessionRecordings recordings, CancellationToken cancellationToken) =>
        await recordings.ReadTraceAsync(sessionId, cancellationToken) is { } trace
            ? RecordingApi.TraceFile(http.Response, sessionId, trace)
            : TypedResults.NotFound();

    /// <summary>Mints a live link for the session (as <c>POST /api/sessions/{id}/live</c> does) and opens it.</summary>
    public static async Task<IResult> LiveAsync(HttpContext http, string sessionId, IGrainFactory grains, LiveLinks links, ILogger<LiveLinks> logger, CancellationToken cancellationToken)
    {
        var form = await http.Request.ReadFormAsync(cancellationToken);
        var mode = form["mode"] == "control" ? LiveMode.Control : LiveMode.View;
        if (await grains.GetGrain<IBrowserSessionGrain>(sessionId).GetInfoAsync(null) is null)
        {
            return TypedResults.Redirect($"{ConsolePaths.Session(sessionId)}?notice={Uri.EscapeDataString("The session is not open.")}");
        }

        var operatorId = http.User.GetClientId() ?? "operator";
        var link = await links.MintAsync(http.Request, sessionId, mode, ttlSeconds: null, operatorId, handoffId: null, cancellationToken);
        LogLiveMinted(logger, sessionId, operatorId, mode, link.ExpiresAt);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Redirect(link.Url);
    }

    /// <summary>Closes the session as <c>DELETE /api/sessions/{id}</c> does (reason: operator).</summary>
    public static async Task<IResult> CloseAsync(HttpContext http, string sessionId, IGrainFactory grains, ILogger<ConsoleSessions> logger)
    {
        var closed = await grains.GetGrain<IBrowserSessionGrain>(sessionId).CloseAsync(null, SessionEndReason.Operator);
        LogClosed(logger, sessionId, http.User.GetClientId() ?? "operator", closed.Closed);
        return closed.Closed
            ? TypedResults.Redirect($"{ConsolePaths.Sessions}?closed={Uri.EscapeDataString(sessionId)}")
            : TypedResults.Redirect($"{ConsolePaths.Session(sessionId)}?notice={Uri.EscapeDataString("The session was not open.")}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: live link minted from the console for session {SessionId} by {ClientId} ({Mode}, expires {ExpiresAt:O})")]
    private static partial void LogLiveMinted(ILogger logger, string sessionId, string clientId, LiveMode mode, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: session {SessionId} closed from the console by {ClientId} (was open: {Closed})")]
    private static partial void LogClosed(ILogger logger, string sessionId, string clientId, bool closed);
}
