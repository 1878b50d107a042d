using System.ComponentModel;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>Named browser sessions: create, close, list. Sessions are grains, reachable from every silo.</summary>
[McpServerToolType]
public sealed class BrowserSessionTools(IGrainFactory grains, TimeProvider time)
{
    [McpServerTool(Name = "browser_session_create", Title = "Create browser session", Destructive = false, OpenWorld = false)]
    [Description("Opens a new, isolated browser session (its own cookies and storage) and returns its session_id and when it expires. Pass the session_id to other browser_* tools to use it; without session_id they use your default session. When the cluster is full it waits, fairly queued with other clients, for a slot (reporting its position as progress if you pass a progressToken) up to the configured queue timeout; refused with concurrency_limit (with retry-after) when the wait ends or your client already has its maximum number of sessions.")]
    public async Task<CallToolResult> CreateAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Open the session with the cookies and localStorage of this saved profile of yours (browser_profile_save), e.g. to start logged in.")] string? profile = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var sessionId = ToolContext.NewSessionId();
        var info = await Sessions.SessionQueueWait.OpenAsync(
            () => grains.GetGrain<IBrowserSessionGrain>(sessionId).OpenAsync(clientId, profile, cancellationToken), clientId, context, grains, time, cancellationToken);
        return ToolResults.Json(new { session_id = info.SessionId, expires_at = info.ExpiresAt });
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_session_close", Title = "Close browser session", Destructive = true, Idempotent = true, OpenWorld = false)]
    [Description("Closes a browser session, ends its browser context, settles its cost and frees its slot. Closing a session that already ended is not an error.")]
    public async Task<CallToolResult> CloseAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session to close, as returned by browser_session_create. Omit to close your default session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, _) = ToolContext.Resolve(session_id, clientId);
        var closed = await grains.GetGrain<IBrowserSessionGrain>(id).CloseAsync(clientId, SessionEndReason.Completed);
        ToolReceipts.Charge(context, id, closed.ChargedUsd, closed.CostUsd);
        return ToolResults.Json(new { session_id = id, closed = closed.Closed });
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_session_list", Title = "List browser sessions", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Lists your open browser sessions with when each opened and expires, its last activity, actions taken, cost so far in USD and current URL.")]
    public async Task<CallToolResult> ListAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var infos = await Sessions.SessionListing.ListAsync(grains, clientId, cancellationToken);
        return ToolResults.Json(new
        {
            sessions = infos.Select(i => SessionView.Of(i, time.GetUtcNow())),
        });
    }
}

/// <summary>How a session is shown to agents and operators (snake_case JSON).</summary>
public static class SessionView
{
    public static object Of(SessionInfo s, DateTimeOffset now) => new
    {
        session_id = s.SessionId,
        client_id = s.ClientId,
        silo = s.Silo,
        opened_at = s.OpenedAt,
        age_seconds = Math.Round((now - s.OpenedAt).TotalSeconds, 1),
        expires_at = s.ExpiresAt,
        last_activity_at = s.LastActivityAt,
        actions = s.Actions,
        cost_usd = s.CostUsd,
        url = s.Url,
        pages = s.Pages,
        running = s.Running,
    };
}

/// <summary>Builds tool results.</summary>
public static class ToolResults
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static CallToolResult Text(string text) => new() { Content = [new TextContentBlock { Text = text }] };

    public static CallToolResult Json(object value) => Text(JsonSerializer.Serialize(value, Options));

    public static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };
}
