using System.Globalization;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.RateLimiting;
using Anchor.Orleans.Grains.Tools;

namespace Anchor.Orleans.Grains.Admission;

/// <summary>
/// Admission by the governance grains: the silo's local view of the emergency switch (no grain call), the
/// client's rate limiter (consumes one call), then room in the UTC day's and month's ledgers, global and client, as
/// this silo's <see cref="LedgerRoomView"/> last heard it.
/// Refusal messages begin with their code.
/// </summary>
public sealed class GovernedToolAdmission(EmergencyStopView emergency, LedgerRoomView rooms, IGrainFactory grains, TimeProvider time) : IToolAdmission
{
    public async Task AdmitAsync(ClientPolicy client, ToolFacts tool, CancellationToken cancellationToken = default)
    {
        emergency.ThrowIfRefusing();

        var rate = await grains.GetGrain<IClientRateLimiterGrain>(client.ClientId).AcquireAsync(client.MaxRequests, client.WindowSeconds, cancellationToken);
        if (!rate.Allowed)
        {
            var seconds = RetryAfterSeconds(rate.RetryAfter);
            throw new AnchorException(
                ErrorCodes.RateLimited,
                string.Create(CultureInfo.InvariantCulture, $"client '{client.ClientId}' has made {rate.Limit} calls in the last {rate.WindowSeconds} s (limit {rate.Limit}); retry after {seconds} s."),
                TimeSpan.FromSeconds(seconds));
        }

        if (tool.Free)
        {
            // A client out of budget must still be able to see its status and to close sessions, which releases what they hold.
            return;
        }

        var now = time.GetUtcNow();
        var day = rooms.CheckRoomAsync(BudgetPeriods.Day(now), client.ClientId, client.DailyLimitUsd, cancellationToken);
        var month = rooms.CheckRoomAsync(BudgetPeriods.Month(now), client.ClientId, client.MonthlyLimitUsd, cancellationToken);
        ThrowIfExhausted(await day, "daily", client.ClientId);
        ThrowIfExhausted(await month, "monthly", client.ClientId);
    }

    /// <summary>Whole seconds to wait, rounded up so a client that waits that long is admitted.</summary>
    public static int RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

    private static void ThrowIfExhausted(LedgerRoom room, string period, string clientId)
    {
        if (room.ExhaustedBy is { } scope)
        {
            var (limit, committed) = scope == BudgetScope.Global ? (room.GlobalLimitUsd, room.GlobalCommittedUsd) : (room.ClientLimitUsd, room.ClientCommittedUsd);
            throw new AnchorException(ErrorCodes.BudgetExceeded, BudgetMessages.Exceeded(period, scope, clientId, limit, committed));
        }
    }
}
