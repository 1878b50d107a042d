using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Anchor.Orleans.Api.Live;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Live;
using Anchor.Orleans.Grains.Tools;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

// Multi-round-trip results (input_required, 2026-07-28) are marked experimental in the MCP SDK 2.4.0.
#pragma warning disable MCPEXP001, MCPEXP002

/// <summary>
/// <c>browser_handoff</c>: the agent asks a person to take over its own session (a sign-in, a CAPTCHA). The control
/// link goes to the user through URL-mode elicitation when the client declares it (never into the model's context),
/// otherwise in the result marked as a one-time link for the user. Until the person presses Done (or the link
/// expires) the agent's next action waits; its result says how the hand-off ended (<c>_meta["anchor/handoff"]</c>).
/// A 2026-07-28 client is served statelessly (any silo may take its retry), where the SDK cannot send a request of its
/// own: it gets the link in an <c>input_required</c> result instead, the hand-off riding in its protected request state.
/// </summary>
[McpServerToolType]
public sealed partial class HandoffTools(
    IGrainFactory grains,
    LiveLinks links,
    IHttpContextAccessor http,
    IOptionsMonitor<LiveOptions> options,
    IDataProtectionProvider protection,
    TimeProvider time,
    ILogger<HandoffTools> logger)
{
    private const int MaxReasonChars = 500;

    /// <summary>The key of the one input request (the URL elicitation) in a multi-round-trip hand-off.</summary>
    private const string LinkInput = "handoff";

    private IDataProtector States => protection.CreateProtector("Anchor.Live.HandoffState");

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_handoff", Title = "Hand off to a person", Destructive = false, OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(HandoffAnswer))]
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
        if (context.Params?.RequestState is { } state)
        {
            return await ResumeAsync(context.Params, state, clientId, cancellationToken);
        }

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
            var inResult = new HandoffAnswer(handoffId, link.ExpiresAt, "result");
            return new CallToolResult
            {
                StructuredContent = JsonSerializer.SerializeToElement(inResult, ToolJson.Options),
                Content =
                [
                    new TextContentBlock { Text = JsonSerializer.Serialize(inResult, ToolJson.Options) },
                    // Marked in words, not with annotations { audience: [user] }: the MCP SDK 2.4.0 cannot serialize a
                    // content block's annotations on this path (InvalidOperationException in ContentBlock.Converter).
                    new TextContentBlock
                    {
                        Text = $"FOR THE USER, NOT FOR THE MODEL — a one-time link that lets them control this browser until {link.ExpiresAt:u}: {link.Url}\nShow it to the user as is, with the reason: {reason}",
                    },
                ],
            };
        }

        var elicit = new ElicitRequestParams
        {
            Mode = "url",
            Url = link.Url,
            ElicitationId = handoffId,
            Message = $"The agent asks you to take over its browser: {reason} Open the link, do what is needed, then press Done.",
        };
        if (context.Server.IsMrtrSupported)
        {
            var pending = new HandoffState(handoffId, sessionId, link.LinkKey, link.ExpiresAt, clientId);
            throw new InputRequiredException(
                new Dictionary<string, InputRequest> { [LinkInput] = InputRequest.ForElicitation(elicit) },
                States.Protect(JsonSerializer.Serialize(pending, ToolJson.Options)));
        }

        var answer = await context.Server.ElicitAsync(elicit, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(options.CurrentValue.LinkSeconds), time, cancellationToken);
        return await ElicitedAsync(new HandoffState(handoffId, sessionId, link.LinkKey, link.ExpiresAt, clientId), answer.Action, cancellationToken);
    }

    /// <summary>The retry of a multi-round-trip hand-off: its state, checked as the caller's, and the user's answer.</summary>
    private async Task<CallToolResult> ResumeAsync(CallToolRequestParams request, string state, string clientId, CancellationToken cancellationToken)
    {
        HandoffState? pending;
        try
        {
            pending = JsonSerializer.Deserialize<HandoffState>(States.Unprotect(state), ToolJson.Options);
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            pending = null;
        }

        if (pending is null || pending.ClientId != clientId)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "the hand-off's request state is not one this service gave this client; call browser_handoff again.");
        }

        var action = request.InputResponses?.TryGetValue(LinkInput, out var response) is true
            && response.RawValue.ValueKind == JsonValueKind.Object && response.RawValue.TryGetProperty("action", out var answer)
            ? answer.GetString()
            : null;
        return await ElicitedAsync(pending, action, cancellationToken);
    }

    /// <summary>The answer once the user saw the link through the client: accepted, or declined (the link void, nothing waits).</summary>
    private async Task<CallToolResult> ElicitedAsync(HandoffState handoff, string? action, CancellationToken cancellationToken)
    {
        if (action != "accept")
        {
            await grains.GetGrain<IBrowserSessionGrain>(handoff.SessionId)
                .SetControlAsync(LiveControlGate.HandoffHolder(handoff.HandoffId), held: false, outcome: "cancelled", cancellationToken: cancellationToken);
            await grains.GetGrain<ILiveLinkGrain>(handoff.LinkKey).RevokeAsync(cancellationToken);
            return Answer(new HandoffAnswer(handoff.HandoffId, handoff.ExpiresAt, "elicitation", "cancelled"));
        }

        return Answer(new HandoffAnswer(handoff.HandoffId, handoff.ExpiresAt, "elicitation"));
    }

    /// <summary>The answer as text and as <c>structuredContent</c> (its <c>outputSchema</c> is <see cref="HandoffAnswer"/>'s).</summary>
    private static CallToolResult Answer(HandoffAnswer answer)
    {
        var json = JsonSerializer.SerializeToElement(answer, ToolJson.Options);
        return new CallToolResult { Content = [new TextContentBlock { Text = json.GetRawText() }], StructuredContent = json };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: session {SessionId} handed off to a person by {ClientId} ({HandoffId})")]
    private static partial void LogHandoff(ILogger logger, string sessionId, string clientId, string handoffId);
}

/// <summary>A hand-off waiting for the user's answer to its link, carried (protected) by a 2026-07-28 client's retry.</summary>
internal sealed record HandoffState(string HandoffId, string SessionId, string LinkKey, DateTimeOffset ExpiresAt, string ClientId);

/// <summary>
/// What <c>browser_handoff</c> answers (snake_case by <see cref="ToolJson.Options"/>): <c>delivered</c> is
/// <c>elicitation</c> or <c>result</c>; the outcome only when it ended at once (the user declined).
/// </summary>
public sealed record HandoffAnswer(
    string HandoffId,
    DateTimeOffset ExpiresAt,
    string Delivered,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Outcome = null);
