using System.Text.Json.Serialization;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.Live;

/// <summary>
/// Live views: operators mint and revoke links (<c>/api/sessions/{id}/live</c>); whoever holds a link opens it once
/// (<c>/live/{token}</c>, exchanged for a cookie scoped to that path) and watches, or drives, over a WebSocket
/// (<c>/live/{token}/ws</c>) served by whichever silo it reaches.
/// </summary>
public static partial class LiveApi
{
    public static IServiceCollection AddAnchorLive(this IServiceCollection services)
    {
        services.AddAnchorOptions<LiveOptions>(LiveOptions.SectionName);
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<LiveOptions>, LiveOptionsValidator>();
        services.AddSingleton<LiveLinks>();
        return services;
    }

    public static WebApplication MapLiveApi(this WebApplication app)
    {
        app.UseWebSockets();
        var group = app.MapGroup("/api/sessions/{sessionId}/live").RequireAuthorization(AuthPolicies.Operator);
        group.MapPost("/", MintAsync).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapDelete("/", RevokeAsync);
        app.MapGet(LiveLinks.PathPrefix + "{token}", OpenAsync).ExcludeFromDescription();
        app.MapGet(LiveLinks.PathPrefix + "{token}/ws", LiveSocket.RunAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Created<LiveLinkResponse>, ProblemResult>> MintAsync(
        string sessionId, LiveLinkRequest? request, HttpContext http, IGrainFactory grains, LiveLinks links, ILogger<LiveLinks> logger, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<LiveMode>(request?.Mode ?? "view", ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, "mode must be \"view\" or \"control\".");
        }

        if (!links.AllowsTtl(request?.TtlSeconds))
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, $"ttl_seconds must be between 1 and {links.MaxTtlSeconds}.");
        }

        if (await grains.GetGrain<IBrowserSessionGrain>(sessionId).GetInfoAsync(null) is null)
        {
            return ProblemResponses.Result(ErrorCodes.SessionNotFound, StatusCodes.Status404NotFound, $"No open session '{sessionId}'.");
        }

        var operatorId = http.User.GetClientId() ?? "operator";
        var link = await links.MintAsync(http.Request, sessionId, mode, request?.TtlSeconds, operatorId, handoffId: null, cancellationToken);
        LogMinted(logger, sessionId, operatorId, mode, link.ExpiresAt);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created((string?)null, new LiveLinkResponse(link.Url, link.ExpiresAt, mode.ToString().ToLowerInvariant()));
    }

    private static async Task<NoContent> RevokeAsync(string sessionId, HttpContext http, IGrainFactory grains, ILogger<LiveLinks> logger, CancellationToken cancellationToken)
    {
        var revoked = await grains.GetGrain<ILiveSessionLinksGrain>(sessionId).RevokeAllAsync(cancellationToken);
        LogRevoked(logger, sessionId, http.User.GetClientId() ?? "operator", revoked);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The live page: on the first open, the link is spent and a cookie scoped to its path takes its place; with that
    /// cookie the page loads again. Anything else (used, unknown, expired, revoked, session over, switch tripped) is a
    /// bare 404 or 410 that says nothing about the session.
    /// </summary>
    private static async Task<IResult> OpenAsync(string token, HttpContext http, IGrainFactory grains, EmergencyStopView emergency, ILogger<LiveLinks> logger, CancellationToken cancellationToken)
    {
        var access = await LiveAccess.CheckAsync(http, token, grains, emergency, openIfNew: true, cancellationToken);
        if (access.Link is not { } link)
        {
            return access.Refusal;
        }

        if (access.NewCookie is { } cookie)
        {
            http.Response.Cookies.Append(LiveLinks.CookieName, cookie, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = LiveLinks.PathPrefix + token,
                Expires = link.ExpiresAt,
            });
            LogOpened(logger, link.SessionId, link.Mode);
        }

        LivePage.SetHeaders(http.Response);
        return TypedResults.Content(LivePage.Html(link.Mode), "text/html; charset=utf-8");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: live link minted for session {SessionId} by {ClientId} ({Mode}, expires {ExpiresAt:O})")]
    private static partial void LogMinted(ILogger logger, string sessionId, string clientId, LiveMode mode, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: live links of session {SessionId} revoked by {ClientId} ({Count} live)")]
    private static partial void LogRevoked(ILogger logger, string sessionId, string clientId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: live_opened for session {SessionId} ({Mode})")]
    private static partial void LogOpened(ILogger logger, string sessionId, LiveMode mode);
}

/// <summary>What <c>POST /api/sessions/{id}/live</c> takes.</summary>
public sealed record LiveLinkRequest(string? Mode, [property: JsonPropertyName("ttl_seconds")] int? TtlSeconds);

/// <summary>A minted link: its URL is a credential for whoever should watch or take over.</summary>
public sealed record LiveLinkResponse(string Url, DateTimeOffset ExpiresAt, string Mode);
