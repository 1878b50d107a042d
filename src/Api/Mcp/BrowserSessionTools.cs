using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Api.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>Named browser sessions: create, close, list. Sessions are grains, reachable from every silo.</summary>
[McpServerToolType]
public sealed class BrowserSessionTools(IGrainFactory grains, TimeProvider time)
{
    [McpServerTool(Name = "browser_session_create", Title = "Create browser session", Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Opens a new, isolated browser session (its own cookies and storage) and returns its session_id and when it expires. Pass the session_id to other browser_* tools to use it; without session_id they use your default session. When the cluster is full it waits, fairly queued with other clients, for a slot (reporting its position as progress if you pass a progressToken) up to the configured queue timeout; refused with concurrency_limit (with retry-after) when the wait ends or your client already has its maximum number of sessions.")]
    public async Task<SessionCreated> CreateAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Open the session with the cookies and localStorage of this saved profile of yours (browser_profile_save), e.g. to start logged in.")] string? profile = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var sessionId = ToolContext.NewSessionId();
        var info = await Sessions.SessionQueueWait.OpenAsync(
            () => grains.GetGrain<IBrowserSessionGrain>(sessionId).OpenAsync(clientId, profile, cancellationToken), clientId, context, grains, time, cancellationToken);
        return new SessionCreated(info.SessionId, info.ExpiresAt);
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_session_close", Title = "Close browser session", Destructive = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Closes a browser session, ends its browser context, settles its cost and frees its slot. Closing a session that already ended is not an error.")]
    public async Task<SessionClosed> CloseAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The session to close, as returned by browser_session_create. Omit to close your default session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, _) = ToolContext.Resolve(session_id, clientId);
        var closed = await grains.GetGrain<IBrowserSessionGrain>(id).CloseAsync(clientId, SessionEndReason.Completed);
        ToolReceipts.Charge(context, id, closed.ChargedUsd, closed.CostUsd);
        return new SessionClosed(id, closed.Closed);
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_session_list", Title = "List browser sessions", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Lists your open browser sessions with when each opened and expires, its last activity, actions taken, cost so far in USD and current URL.")]
    public async Task<SessionsListed> ListAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var infos = await Sessions.SessionListing.ListAsync(grains, clientId, cancellationToken);
        var now = time.GetUtcNow();
        return new SessionsListed([.. infos.Select(i => SessionSummary.Of(i, now))]);
    }
}

/// <summary>What <c>browser_session_create</c> answers.</summary>
public sealed record SessionCreated(string SessionId, DateTimeOffset ExpiresAt);

/// <summary>What <c>browser_session_close</c> answers: whether the call ended an open session.</summary>
public sealed record SessionClosed(string SessionId, bool Closed);

/// <summary>What <c>browser_session_list</c> answers: the caller's open sessions, as operators see them too.</summary>
public sealed record SessionsListed(IReadOnlyList<SessionSummary> Sessions);

/// <summary>Builds tool results.</summary>
public static class ToolResults
{
    public static CallToolResult Text(string text) => new() { Content = [new TextContentBlock { Text = text }] };

    public static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };
}
