using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Sessions;

/// <summary>Operators' view of browser sessions across the cluster: list them, close one.</summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/sessions").RequireAuthorization(AuthPolicies.Operator);
        group.MapGet("/", ListAsync);
        group.MapDelete("/{sessionId}", CloseAsync).ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<Ok<SessionList>> ListAsync(IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        var infos = await SessionListing.ListAsync(grains, clientId: null, cancellationToken);
        var stats = await grains.GetGrain<ISessionRegistryGrain>(0).GetCleanupStatsAsync();
        var now = time.GetUtcNow();
        return TypedResults.Ok(new SessionList(infos.Count, [.. infos.Select(i => SessionSummary.Of(i, now))], stats));
    }

    private static async Task<Results<NoContent, ProblemResult>> CloseAsync(string sessionId, IGrainFactory grains)
    {
        var closed = await grains.GetGrain<IBrowserSessionGrain>(sessionId).CloseAsync(null, SessionEndReason.Operator);
        return closed.Closed
            ? TypedResults.NoContent()
            : ProblemResponses.Result(ErrorCodes.SessionNotFound, StatusCodes.Status404NotFound, $"No open session '{sessionId}'.");
    }
}

/// <summary>What <c>GET /api/sessions</c> answers: the open sessions and the registry's sweep counts.</summary>
public sealed record SessionList(int Count, IReadOnlyList<SessionSummary> Sessions, CleanupStats Cleanup);

/// <summary>One open session as operators see it (snake_case by the API's naming policy).</summary>
public sealed record SessionSummary(
    string SessionId,
    string ClientId,
    string Silo,
    DateTimeOffset OpenedAt,
    double AgeSeconds,
    DateTimeOffset ExpiresAt,
    DateTimeOffset LastActivityAt,
    int Actions,
    decimal CostUsd,
    string? Url,
    int Pages,
    string? Running)
{
    public static SessionSummary Of(SessionInfo s, DateTimeOffset now) => new(
        s.SessionId,
        s.ClientId,
        s.Silo,
        s.OpenedAt,
        Math.Round((now - s.OpenedAt).TotalSeconds, 1),
        s.ExpiresAt,
        s.LastActivityAt,
        s.Actions,
        s.CostUsd,
        s.Url is null ? null : Grains.Browser.CredentialMasking.MaskUrl(s.Url), // Credentials and token values in it are hidden, as in the timeline.
        s.Pages,
        s.Running);
}
