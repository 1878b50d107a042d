using System.Globalization;
using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>
/// Sessions pay through the ledgers of the UTC day and month they opened in. A reservation is taken from the day,
/// then the month; when the month refuses, the day's share is given back, so neither limit is ever crossed. Every
/// change is told to this silo's <see cref="LedgerRoomView"/>, so admissions here see it at once.
/// </summary>
public sealed partial class LedgerSessionBudget(IGrainFactory grains, ClientPolicies policies, LedgerRoomView rooms, TimeProvider time, ILogger<LedgerSessionBudget> logger) : ISessionBudget
{
    /// <summary>
    /// How long a settlement keeps trying through a failover (a ledger on a dead silo answers again once membership has
    /// moved it). Settling is idempotent per session, so a retry after a lost answer cannot charge twice.
    /// </summary>
    public static readonly TimeSpan SettleRetryLimit = TimeSpan.FromSeconds(90);

    public async Task ReserveAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal amountUsd, CancellationToken cancellationToken = default)
    {
        try
        {
            await ReserveInBothAsync(sessionId, clientId, openedAt, amountUsd, cancellationToken);
        }
        finally
        {
            rooms.Changed();
        }
    }

    private async Task ReserveInBothAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal amountUsd, CancellationToken cancellationToken)
    {
        var policy = policies.For(clientId);
        var day = grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(openedAt));
        var daily = await day.ReserveAsync(sessionId, clientId, amountUsd, policy.DailyLimitUsd, cancellationToken);
        if (!daily.Granted)
        {
            throw Refusal(daily, "daily", clientId, sessionId);
        }

        ReserveResult monthly;
        try
        {
            monthly = await grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Month(openedAt))
                .ReserveAsync(sessionId, clientId, amountUsd, policy.MonthlyLimitUsd, cancellationToken);
        }
        catch
        {
            await day.ReleaseAsync(sessionId, amountUsd, CancellationToken.None);
            throw;
        }

        if (!monthly.Granted)
        {
            await day.ReleaseAsync(sessionId, amountUsd, CancellationToken.None);
            throw Refusal(monthly, "monthly", clientId, sessionId);
        }
    }

    public async Task SettleAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal? actualUsd, CancellationToken cancellationToken = default)
    {
        var day = Resilience.TransientClusterErrors.RetryAsync(
            ct => grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(openedAt)).SettleAsync(sessionId, actualUsd, ct), SettleRetryLimit, time, cancellationToken);
        var month = Resilience.TransientClusterErrors.RetryAsync(
            ct => grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Month(openedAt)).SettleAsync(sessionId, actualUsd, ct), SettleRetryLimit, time, cancellationToken);
        try
        {
            await Task.WhenAll(day, month);
        }
        finally
        {
            rooms.Changed();
        }

        if (day.Result.Settled)
        {
            // The ledger's own answer: what this settlement charged, once per session (an audit line operators can sum).
            LogSettled(logger, sessionId, clientId, day.Result.ChargedUsd, day.Result.ReleasedUsd);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Settled session {BillingId} of {ClientId}: charged {ChargedUsd} USD, released {ReleasedUsd} USD")]
    private static partial void LogSettled(ILogger logger, string billingId, string clientId, decimal chargedUsd, decimal releasedUsd);

    private static AnchorException Refusal(ReserveResult result, string period, string clientId, string sessionId) =>
        result.AlreadySettled
            ? new AnchorException(ErrorCodes.SessionExpired, $"session '{sessionId}' has already been settled.")
            : new AnchorException(ErrorCodes.BudgetExceeded, BudgetMessages.Exceeded(period, result.RefusedBy ?? BudgetScope.Global, clientId, result.LimitUsd, result.CommittedUsd));
}

/// <summary>How a refusal names the budget (the detail of a <c>budget_exceeded</c>), the same for admissions and reservations.</summary>
public static class BudgetMessages
{
    public static string Exceeded(string period, BudgetScope scope, string clientId, decimal limitUsd, decimal committedUsd) =>
        scope == BudgetScope.Global
            // The cluster's figures are other tenants' spend: the caller learns only that the cluster is full.
            ? $"the {period} cluster-wide budget has no room left."
            : string.Create(CultureInfo.InvariantCulture, $"the {period} budget of client '{clientId}' (${limitUsd:0.00##}) has no room left (${committedUsd:0.00##} spent or reserved).");
}
