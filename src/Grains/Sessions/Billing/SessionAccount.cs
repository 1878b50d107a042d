using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions.Billing;

/// <summary>
/// The money of one opening of a session: what it has run up (open minutes and the actions charged), what it holds
/// reserved in the budgets, and what its close charged. It reserves before it spends, in <c>SessionReserveUsd</c>
/// steps, and settles once, never above what it holds.
/// </summary>
public sealed class SessionAccount(string sessionId, ISessionBudget budget, IOptionsMonitor<PricingOptions> pricing)
{
    /// <summary>The client the session is billed to.</summary>
    public string ClientId { get; private set; } = "";

    public DateTimeOffset OpenedAt { get; private set; }

    public int Actions { get; private set; }

    public decimal ActionsUsd { get; private set; }

    public decimal ReservedUsd { get; private set; }

    /// <summary>What the close's receipt carries: the cost at the end less the actions already on their calls' receipts.</summary>
    public decimal CloseChargeUsd { get; private set; }

    private string ReservationId => SessionBilling.Id(sessionId, OpenedAt);

    /// <summary>Reserves an opening's first <c>SessionReserveUsd</c> before its browser opens; answers the amount held.</summary>
    public async Task<decimal> ReserveOpeningAsync(string clientId, DateTimeOffset openedAt, CancellationToken cancellationToken)
    {
        var reserve = pricing.CurrentValue.SessionReserveUsd;
        await budget.ReserveAsync(SessionBilling.Id(sessionId, openedAt), clientId, openedAt, reserve, cancellationToken);
        return reserve;
    }

    /// <summary>Releases the reservation of an opening that failed (settled at zero, if it landed).</summary>
    public Task AbandonOpeningAsync(string clientId, DateTimeOffset openedAt) =>
        budget.SettleAsync(SessionBilling.Id(sessionId, openedAt), clientId, openedAt, 0m);

    /// <summary>Starts the account of an opening that holds <paramref name="reservedUsd"/>.</summary>
    public void Open(string clientId, DateTimeOffset openedAt, decimal reservedUsd)
    {
        ClientId = clientId;
        OpenedAt = openedAt;
        Actions = 0;
        ActionsUsd = 0;
        CloseChargeUsd = 0;
        ReservedUsd = reservedUsd;
    }

    /// <summary>Takes the figures of a checkpoint: the session is rebuilt, or ended, on a silo other than where it opened.</summary>
    public void Load(SessionCheckpoint saved, DateTimeOffset openedAt)
    {
        ClientId = saved.ClientId;
        OpenedAt = openedAt;
        Actions = saved.Actions;
        ActionsUsd = saved.ActionsUsd;
        ReservedUsd = saved.ReservedUsd;
        CloseChargeUsd = 0;
    }

    /// <summary>The price of one call: one action; a task its steps and its first navigation.</summary>
    public (int Steps, decimal PriceUsd) Quote(BrowserAction action)
    {
        var steps = action is RunTaskAction task ? task.Steps.Count + 1 : 1;
        return (steps, steps * pricing.CurrentValue.ActionUsd);
    }

    /// <summary>Charges a call that answered (a failed or interrupted one costs its minutes, not an action).</summary>
    public void Charge(int steps, decimal priceUsd)
    {
        Actions += steps;
        ActionsUsd += priceUsd;
    }

    /// <summary>What the session has run up by <paramref name="at"/>: its open minutes and the actions charged so far.</summary>
    public decimal Accrued(DateTimeOffset at)
    {
        var minutes = (decimal)Math.Max(0, (at - OpenedAt).TotalMinutes);
        return Math.Round((minutes * pricing.CurrentValue.SessionMinuteUsd) + ActionsUsd, 6);
    }

    /// <summary>What the session would settle at, at <paramref name="at"/> (never more than it holds reserved).</summary>
    public decimal CostAt(DateTimeOffset at) => Math.Min(Accrued(at), ReservedUsd);

    /// <summary>
    /// Tops up the reservation in <c>SessionReserveUsd</c> steps until it covers <paramref name="neededUsd"/>, or throws
    /// <c>budget_exceeded</c>. Answers whether it reserved more (what is reserved must survive a move).
    /// </summary>
    public async Task<bool> EnsureReservedAsync(decimal neededUsd, CancellationToken cancellationToken)
    {
        if (neededUsd <= ReservedUsd)
        {
            return false;
        }

        var step = Math.Max(pricing.CurrentValue.SessionReserveUsd, 0.01m);
        var topUp = Math.Ceiling((neededUsd - ReservedUsd) / step) * step;
        await budget.ReserveAsync(ReservationId, ClientId, OpenedAt, topUp, cancellationToken);
        ReservedUsd += topUp;
        return true;
    }

    /// <summary>Closes the account at <paramref name="at"/>: answers the cost to settle and sets <see cref="CloseChargeUsd"/>.</summary>
    public decimal Close(DateTimeOffset at)
    {
        var cost = CostAt(at);
        // The actions were on the receipts of their calls; the close's receipt carries the rest (the minutes).
        CloseChargeUsd = Math.Max(0, cost - ActionsUsd);
        return cost;
    }

    /// <summary>Settles the opening at <paramref name="costUsd"/> (exactly once; the budget ignores later settles).</summary>
    public Task SettleAsync(decimal costUsd) => budget.SettleAsync(ReservationId, ClientId, OpenedAt, costUsd);
}
