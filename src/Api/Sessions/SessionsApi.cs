using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Mcp;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Sessions;

/// <summary>Operators' view of browser sessions across the cluster: list them, close one.</summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/sessions").RequireAuthorization(AuthPolicies.Operator);
        group.MapGet("/", ListAsync);
        group.MapDelete("/{sessionId}", CloseAsync);
        return endpoints;
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        var infos = await SessionListing.ListAsync(grains, clientId: null, cancellationToken);
        var stats = await grains.GetGrain<ISessionRegistryGrain>(0).GetCleanupStatsAsync();
        return TypedResults.Ok(new
        {
            count = infos.Count,
            sessions = infos.Select(i => SessionView.Of(i, time.GetUtcNow())),
            cleanup = new { succeeded = stats.Succeeded, failed = stats.Failed, last_sweep_at = stats.LastSweepAt },
        });
    }

    private static async Task<IResult> CloseAsync(string sessionId, IGrainFactory grains)
    {
        var closed = await grains.GetGrain<IBrowserSessionGrain>(sessionId).CloseAsync(null, SessionEndReason.Operator);
        return closed.Closed
            ? TypedResults.NoContent()
            : ProblemResponses.Result(ErrorCodes.SessionNotFound, StatusCodes.Status404NotFound, $"No open session '{sessionId}'.");
    }
}
