using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Timeline;

/// <summary>Operators' export of a session's timeline as JSON (open or ended, while it is kept).</summary>
public static class TimelineApi
{
    public static IEndpointRouteBuilder MapTimelineApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/sessions/{sessionId}/timeline", ReadAsync)
            .RequireAuthorization(AuthPolicies.Operator)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<Results<Ok<SessionTimelineView>, ProblemResult>> ReadAsync(string sessionId, ISessionTimeline timeline, CancellationToken cancellationToken) =>
        await timeline.ReadAsync(sessionId, cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : ProblemResponses.Result(ErrorCodes.SessionNotFound, StatusCodes.Status404NotFound, $"No timeline is kept for session '{sessionId}'.");
}
