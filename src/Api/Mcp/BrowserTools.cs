using System.ComponentModel;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Runs browser actions in the caller's session for the tool families (<see cref="BrowserToolFamilies"/>), and
/// serves <c>browser_close</c>. Every tool takes an optional <c>session_id</c>; without it the call uses the caller's
/// default session.
/// </summary>
[McpServerToolType]
public sealed class BrowserTools(IGrainFactory grains, TimeProvider time)
{
    internal const string SessionIdHelp = ToolHelp.SessionId;

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_close", Title = "Close the browser", Destructive = true, Idempotent = true, OpenWorld = false)]
    [Description("Closes the browser session (your default session unless session_id is given), settles its cost and frees its slot.")]
    public async Task<CallToolResult> CloseAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, _) = ToolContext.Resolve(session_id, clientId);
        var closed = await grains.GetGrain<IBrowserSessionGrain>(id).CloseAsync(clientId, SessionEndReason.Completed);
        ToolReceipts.Charge(context, id, closed.ChargedUsd, closed.CostUsd);
        return ToolResults.Text(closed.Closed ? "Browser closed." : "No browser was open.");
    }

    /// <summary>Runs <paramref name="action"/> in the caller's session and answers with its text.</summary>
    internal async Task<CallToolResult> RunAsync(RequestContext<CallToolRequestParams> context, string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        ToolResults.Text((await ExecuteAsync(context, sessionId, action, cancellationToken)).Text);

    /// <summary>How long a call keeps looking for a session whose activation the grain directory is handing over.</summary>
    private static readonly TimeSpan ElsewhereLimit = TimeSpan.FromSeconds(15);

    internal async Task<ActionResult> ExecuteAsync(RequestContext<CallToolRequestParams> context, string? sessionId, BrowserAction action, CancellationToken cancellationToken)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, isDefault) = ToolContext.Resolve(sessionId, clientId);
        var giveUp = time.GetUtcNow() + ElsewhereLimit;
        while (true)
        {
            try
            {
                // A default session's first call opens it, and waits in the fair queue when the cluster is full.
                var result = await Sessions.SessionQueueWait.OpenAsync(
                    () => grains.GetGrain<IBrowserSessionGrain>(id).ExecuteAsync(clientId, action, openIfNeeded: isDefault, cancellationToken), clientId, context, grains, time, cancellationToken);
                ToolReceipts.Charge(context, id, result.ChargedUsd, result.SessionCostUsd, result.Restored);
                return result;
            }
            catch (SessionElsewhereException) when (time.GetUtcNow() < giveUp)
            {
                // The call reached a stray activation (that has already deactivated); the next one finds the live one.
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
            }
            catch (SessionElsewhereException)
            {
                throw new AnchorException(ErrorCodes.BrowserError, $"browser_error: session '{id}' could not be reached while the cluster changed; retry in a few seconds.");
            }
        }
    }
}
