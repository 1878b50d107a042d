using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Interfaces.Operations;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Operations;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
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

    private static async Task<Ok<OperationsSnapshot>> GetAsync(IGrainFactory grains, OperationsCollector local, IEnumerable<ISpendSnapshotSource> spendSources)
    {
        await local.FlushAsync();
        var sessions = await grains.GetGrain<ISessionRegistryGrain>(0).GetStatsAsync();
        var ops = await grains.GetGrain<IOperationsStatsGrain>(0).GetAsync();
        var spend = spendSources.FirstOrDefault() is { } source ? await source.GetAsync() : null;
        return TypedResults.Ok(OperationsSnapshot.Of(sessions, ops, spend));
    }
}

/// <summary>What <c>/api/metrics</c> answers (snake_case by the API's naming policy); a ratio with nothing to divide by is null.</summary>
public sealed record OperationsSnapshot(SessionFigures Sessions, SearchFigures Searches, CostFigures Cost, QualityFigures Quality, ToolCallFigures ToolCalls)
{
    public static OperationsSnapshot Of(SessionStats sessions, OperationsCounts ops, SpendSnapshot? spend)
    {
        var ended = sessions.EndedByReason.Values.Sum();
        long Ended(SessionEndReason reason) => sessions.EndedByReason.GetValueOrDefault(reason);
        var cleanup = sessions.Cleanup;
        return new(
            new SessionFigures(
                sessions.Created,
                sessions.Active,
                Ended(SessionEndReason.Completed) + Ended(SessionEndReason.Operator),
                Ended(SessionEndReason.Failed) + Ended(SessionEndReason.Lost),
                Ended(SessionEndReason.TimedOut) + Ended(SessionEndReason.Idle),
                sessions.EndedByReason.ToDictionary(kv => AnchorMetrics.ReasonLabel(kv.Key), kv => kv.Value),
                Ratio(sessions.EndedSeconds, ended),
                new CleanupFigures(cleanup.Succeeded, cleanup.Failed, Ratio(cleanup.Succeeded, cleanup.Succeeded + cleanup.Failed))),
            new SearchFigures(
                ops.SearchesAttempted,
                ops.SearchesSucceeded,
                ops.SearchesFailed,
                Ratio(ops.SearchesSucceeded, ops.SearchesAttempted),
                Ratio(ops.SearchSeconds, ops.SearchesAttempted),
                Ratio(ops.SearchResults, ops.SearchesSucceeded)),
            new CostFigures(spend?.DailySpendUsd, spend?.MonthlySpendUsd, spend?.DailyUtilization, spend?.MonthlyUtilization, spend?.CostPerSearchUsd),
            new QualityFigures(
                ops.Extractions,
                Ratio(ops.ExtractionsSucceeded, ops.Extractions),
                Ratio(ops.CompletenessSum, ops.Extractions),
                Ratio(ops.CacheHits, ops.CacheHits + ops.CacheMisses)),
            new ToolCallFigures(ops.ToolCalls, ops.ToolErrors, ops.ToolRefusals));
    }

    private static double? Ratio(double part, double whole) => whole > 0 ? Math.Round(part / whole, 4) : null;
}

/// <summary>Sessions cluster-wide: completed includes operator closes, failed includes lost, timed out includes idle.</summary>
public sealed record SessionFigures(
    long Created,
    int Active,
    long Completed,
    long Failed,
    long TimedOut,
    IReadOnlyDictionary<string, long> EndedByReason,
    double? AverageDurationSeconds,
    CleanupFigures Cleanup);

/// <summary>The registry's sweeps.</summary>
public sealed record CleanupFigures(long Succeeded, long Failed, double? SuccessRate);

public sealed record SearchFigures(long Attempted, long Successful, long Failed, double? SuccessRate, double? AverageDurationSeconds, double? ResultsPerSearch);

/// <summary>Spend now; null when no ledger is wired.</summary>
public sealed record CostFigures(decimal? DailySpendUsd, decimal? MonthlySpendUsd, double? DailyUtilization, double? MonthlyUtilization, decimal? CostPerSearchUsd);

public sealed record QualityFigures(long Extractions, double? ExtractionSuccessRate, double? DataCompleteness, double? CacheHitRate);

public sealed record ToolCallFigures(long Total, long Errors, long Refused);
