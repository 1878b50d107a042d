using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Interfaces.Operations;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Operations;

/// <summary>
/// <c>/api/metrics</c>: the operations snapshot an operator reads at a glance — sessions, searches, cost and data
/// quality — aggregated cluster-wide (sessions from the registry, the rest from every silo's flushed counters).
/// </summary>
public static class OperationsApi
{
    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/metrics", GetAsync).RequireAuthorization(AuthPolicies.Operator);
        return endpoints;
    }

    private static async Task<IResult> GetAsync(IGrainFactory grains, OperationsCollector local, IEnumerable<ISpendSnapshotSource> spendSources)
    {
        await local.FlushAsync();
        var sessions = await grains.GetGrain<ISessionRegistryGrain>(0).GetStatsAsync();
        var ops = await grains.GetGrain<IOperationsStatsGrain>(0).GetAsync();
        var spend = spendSources.FirstOrDefault() is { } source ? await source.GetAsync() : null;
        var ended = sessions.EndedByReason.Values.Sum();
        long Ended(SessionEndReason reason) => sessions.EndedByReason.GetValueOrDefault(reason);

        return TypedResults.Ok(new
        {
            sessions = new
            {
                created = sessions.Created,
                active = sessions.Active,
                completed = Ended(SessionEndReason.Completed) + Ended(SessionEndReason.Operator),
                failed = Ended(SessionEndReason.Failed) + Ended(SessionEndReason.Lost),
                timed_out = Ended(SessionEndReason.TimedOut) + Ended(SessionEndReason.Idle),
                ended_by_reason = sessions.EndedByReason.ToDictionary(kv => Grains.Telemetry.AnchorMetrics.ReasonLabel(kv.Key), kv => kv.Value),
                average_duration_seconds = Ratio(sessions.EndedSeconds, ended),
                cleanup = new
                {
                    succeeded = sessions.Cleanup.Succeeded,
                    failed = sessions.Cleanup.Failed,
                    success_rate = Ratio(sessions.Cleanup.Succeeded, sessions.Cleanup.Succeeded + sessions.Cleanup.Failed),
                },
            },
            searches = new
            {
                attempted = ops.SearchesAttempted,
                successful = ops.SearchesSucceeded,
                failed = ops.SearchesFailed,
                success_rate = Ratio(ops.SearchesSucceeded, ops.SearchesAttempted),
                average_duration_seconds = Ratio(ops.SearchSeconds, ops.SearchesAttempted),
                results_per_search = Ratio(ops.SearchResults, ops.SearchesSucceeded),
            },
            cost = new
            {
                daily_spend_usd = spend?.DailySpendUsd,
                monthly_spend_usd = spend?.MonthlySpendUsd,
                daily_utilization = spend?.DailyUtilization,
                monthly_utilization = spend?.MonthlyUtilization,
                cost_per_search_usd = spend?.CostPerSearchUsd,
            },
            quality = new
            {
                extractions = ops.Extractions,
                extraction_success_rate = Ratio(ops.ExtractionsSucceeded, ops.Extractions),
                data_completeness = Ratio(ops.CompletenessSum, ops.Extractions),
                cache_hit_rate = Ratio(ops.CacheHits, ops.CacheHits + ops.CacheMisses),
            },
            tool_calls = new { total = ops.ToolCalls, errors = ops.ToolErrors, refused = ops.ToolRefusals },
        });
    }

    private static double? Ratio(double part, double whole) => whole > 0 ? Math.Round(part / whole, 4) : null;
}
