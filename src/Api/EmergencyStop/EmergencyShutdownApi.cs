using System.Security.Claims;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.EmergencyStop;

/// <summary>The body of <c>POST /api/emergency-shutdown</c>.</summary>
public sealed record TripRequest(string? Reason);

/// <summary><c>GET</c> the switch, <c>POST {reason}</c> to trip it, <c>DELETE</c> to reset it (operators).</summary>
public static class EmergencyShutdownApi
{
    public const int MaxReasonLength = 500;

    public static IEndpointRouteBuilder MapEmergencyShutdownApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/emergency-shutdown").RequireAuthorization(AuthPolicies.Operator);
        group.MapGet("/", GetAsync);
        group.MapPost("/", TripAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapDelete("/", ResetAsync);
        return endpoints;
    }

    private static async Task<Ok<EmergencyStopState>> GetAsync(IGrainFactory grains, CancellationToken cancellationToken) =>
        TypedResults.Ok(await Switch(grains).GetStateAsync(cancellationToken));

    private static async Task<Results<Ok<EmergencyStopState>, ProblemResult>> TripAsync(TripRequest? request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var reason = request?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > MaxReasonLength)
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, $"Body must be {{ \"reason\": \"...\" }} with a reason of 1 to {MaxReasonLength} characters.");
        }

        return TypedResults.Ok(await Switch(grains).TripAsync(reason, Actor(user), cancellationToken));
    }

    private static async Task<Ok<EmergencyStopState>> ResetAsync(ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken) =>
        TypedResults.Ok(await Switch(grains).ResetAsync(Actor(user), cancellationToken));

    private static IEmergencyStopGrain Switch(IGrainFactory grains) => grains.GetGrain<IEmergencyStopGrain>(0);

    private static string Actor(ClaimsPrincipal user) => user.GetClientId() ?? "unknown";
}
