using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Anchor.Orleans.Api.Live;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Live;
using Anchor.Orleans.Grains.Tools;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// <c>browser_handoff</c>: the agent asks a person to take over its own session (a sign-in, a CAPTCHA). The control
/// link goes to the user through URL-mode elicitation when the client declares it (never into the model's context),
/// otherwise in the result marked as a one-time link for the user. Until the person presses Done (or the link
/// expires) the agent's next action waits; its result says how the hand-off ended (<c>_meta["anchor/handoff"]</c>).
/// </summary>
[McpServerToolType]
public sealed partial class HandoffTools(
    IGrainFactory grains, LiveLinks links, IHttpContextAccessor http, IOptionsMonitor<LiveOptions> options, TimeProvider time, ILogger<HandoffTools> logger)
{
    private const int MaxReasonChars = 500;

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_handoff", Title = "Hand off to a person", Destructive = false, OpenWorld = false)]
    [Description("Asks a person to take over your browser session, e.g. to sign in with a second factor, solve a CAPTCHA or accept a consent screen. The user gets a one-time link to the live session (through the client when it supports URL elicitation); your next browser action waits until they press Done (up to the action timeout; past it human_in_control with retry-after), and its result's _meta[\"anchor/handoff\"] says whether the hand-off completed, expired or was cancelled. Returns handoff_id, expires_at and how the link was delivered (elicitation or result). Never repeat the link yourself.")]
    public async Task<CallToolResult> HandoffAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("What the person should do, shown to them (e.g. \"Sign in to example.com with your security key\").")] string reason,
        [Description("Your session to hand over; omit for your default session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonChars)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"reason must be 1 to {MaxReasonChars} characters.");
        }

        var clientId = ToolContext.ClientIdOf(context.User);
        var (sessionId, _) = ToolContext.Resolve(session_id, clientId);
        var session = grains.GetGrain<IBrowserSessionGrain>(sessionId);
        if (await session.GetInfoAsync(clientId) is null)
        {
            throw new AnchorException(ErrorCodes.SessionNotFound, $"no session '{sessionId}' for this client to hand over; create one with browser_session_create or use your default session first.");
        }

        var handoffId = $"h-{Guid.NewGuid():N}";
        var link = await links.MintAsync(http.HttpContext!.Request, sessionId, LiveMode.Control, null, clientId, handoffId, cancellationToken);
        var holder = LiveControlGate.HandoffHolder(handoffId);
        if (!await session.SetControlAsync(holder, held: true, until: link.ExpiresAt, cancellationToken: cancellationToken))
        {
            await grains.GetGrain<ILiveLinkGrain>(link.LinkKey).RevokeAsync(cancellationToken);
            throw new AnchorException(ErrorCodes.HumanInControl, $"a person already holds session '{sessionId}'; retry after {LiveControlGate.RetryAfter.TotalSeconds:0} s.", LiveControlGate.RetryAfter);
        }

        LogHandoff(logger, sessionId, clientId, handoffId);
        if (context.Server.ClientCapabilities?.Elicitation?.Url is null)
        {
            return new CallToolResult
            {
                Content =
                [
                    new TextContentBlock { Text = Answer(handoffId, link.ExpiresAt, "result") },
                    // Marked in words, not with annotations { audience: [user] }: the MCP SDK 2.4.0 cannot serialize a
                    // content block's annotations on this path (InvalidOperationException in ContentBlock.Converter).
                    new TextContentBlock
                    {
                        Text = $"FOR THE USER, NOT FOR THE MODEL — a one-time link that lets them control this browser until {link.ExpiresAt:u}: {link.Url}\nShow it to the user as is, with the reason: {reason}",
                    },
                ],
            };
        }

        var answer = await context.Server.ElicitAsync(
            new ElicitRequestParams
            {
                Mode = "url",
                Url = link.Url,
                ElicitationId = handoffId,
                Message = $"The agent asks you to take over its browser: {reason} Open the link, do what is needed, then press Done.",
            },
            cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(options.CurrentValue.LinkSeconds), time, cancellationToken);
        if (answer.Action != "accept")
        {
            // The user declined: nothing waits for them, and the link is void.
            await session.SetControlAsync(holder, held: false, outcome: "cancelled", cancellationToken: cancellationToken);
            await grains.GetGrain<ILiveLinkGrain>(link.LinkKey).RevokeAsync(cancellationToken);
            return ToolResults.Text(Answer(handoffId, link.ExpiresAt, "elicitation", "cancelled"));
        }

        return ToolResults.Text(Answer(handoffId, link.ExpiresAt, "elicitation"));
    }

    private static string Answer(string handoffId, DateTimeOffset expiresAt, string delivered, string? outcome = null) =>
        JsonSerializer.Serialize(new HandoffAnswer(handoffId, expiresAt, delivered, outcome), ToolJson.Options);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: session {SessionId} handed off to a person by {ClientId} ({HandoffId})")]
    private static partial void LogHandoff(ILogger logger, string sessionId, string clientId, string handoffId);
}

/// <summary>What <c>browser_handoff</c> answers (snake_case by <see cref="ToolJson.Options"/>); the outcome only when it ended at once.</summary>
public sealed record HandoffAnswer(
    string HandoffId,
    DateTimeOffset ExpiresAt,
    string Delivered,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Outcome);
