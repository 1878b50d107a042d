using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Alerts;

/// <summary>Operators' view of recent alerts, newest first, with the delivery outcome per channel.</summary>
public static class AlertsApi
{
    public const int DefaultLimit = 100;

    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/alerts").RequireAuthorization(AuthPolicies.Operator);
        group.MapGet("/", ListAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        return endpoints;
    }

    private static async Task<Results<Ok<List<AlertView>>, ProblemResult>> ListAsync(IGrainFactory grains, int? limit, CancellationToken cancellationToken)
    {
        var count = limit ?? DefaultLimit;
        if (count is < 1 or > AlertHistory.Size)
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest,
                $"limit must be between 1 and {AlertHistory.Size}.");
        }

        var entries = await grains.GetGrain<IAlertGrain>(0).GetRecentAsync(count, cancellationToken);
        return TypedResults.Ok(entries.Select(AlertView.Of).ToList());
    }
}

/// <summary>One alert as <c>/api/alerts</c> shows it (snake_case by the API's naming policy).</summary>
public sealed record AlertView(
    long Id,
    string Severity,
    string Key,
    string Title,
    string Message,
    DateTimeOffset At,
    string Source,
    IReadOnlyDictionary<string, string> Details,
    int Suppressed,
    DateTimeOffset? ResolvedAt,
    IReadOnlyList<AlertDeliveryView> Deliveries)
{
    public static AlertView Of(AlertEntry entry) => new(
        entry.Id,
        AlertRouting.Label(entry.Severity),
        entry.Key,
        entry.Title,
        entry.Message,
        entry.At,
        entry.Source,
        entry.Details,
        entry.Suppressed,
        entry.ResolvedAt,
        [.. entry.Deliveries.Select(d => new AlertDeliveryView(
            d.Channel, d.Outcome.ToString().ToLowerInvariant(), d.Attempts, d.StatusCode, d.Error, d.CompletedAt))]);
}

/// <summary>Delivery to one channel: pending, delivered or failed, after how many HTTP attempts.</summary>
public sealed record AlertDeliveryView(string Channel, string Outcome, int Attempts, int? StatusCode, string? Error, DateTimeOffset? CompletedAt);
