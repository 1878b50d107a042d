using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The receipt on every tool result (<c>_meta["anchor/receipt"]</c>): what this call cost, the session's cost so far,
/// and what the ledgers hold for the caller's UTC day and month (its own figures; of the cluster's budget only whether it
/// is what limits the caller). The cost is what the session grain charged (an action
/// when it answered; the open minutes on the close that ended the session), the same number the log line and the trace
/// carry and the ledger settles, so the receipts of a client's calls add up to what it was billed.
/// </summary>
public static class ToolReceipts
{
    public const string MetaKey = "anchor/receipt";

    /// <summary>Where a result says its session was rebuilt on another silo from its checkpoint (the text says it too).</summary>
    public const string RestoredKey = "anchor/restored";

    public const string HandoffKey = "anchor/handoff";

    private const string ItemKey = "anchor.tool_charge";

    /// <summary>How long a receipt waits for the ledgers; past it the receipt carries the cost without the budgets.</summary>
    private static readonly TimeSpan LedgerWait = TimeSpan.FromSeconds(2);

    /// <summary>Starts collecting the charges of one call.</summary>
    public static ToolCharge Begin(MessageContext context)
    {
        var charge = new ToolCharge();
        context.Items[ItemKey] = charge;
        return charge;
    }

    /// <summary>Adds what the session charged for this call (a tool may run several actions).</summary>
    public static void Charge(MessageContext context, string sessionId, decimal chargedUsd, decimal sessionCostUsd, SessionRestored? restored = null, HandoffOutcome? handoff = null, string? pageUrl = null)
    {
        if (context.Items.TryGetValue(ItemKey, out var item) && item is ToolCharge charge)
        {
            charge.Add(sessionId, chargedUsd, sessionCostUsd, restored, handoff, pageUrl);
        }
    }

    /// <summary>Writes the receipt into <paramref name="result"/>. Budgets are read best-effort (a ledger failing over leaves them out).</summary>
    public static async Task WriteAsync(CallToolResult result, ToolCharge charge, ClientPolicy? client, BudgetStatus budgets, TimeProvider time, CancellationToken cancellationToken)
    {
        var receipt = new ToolReceipt(charge.CostUsd, charge.SessionId, charge.SessionId is null ? null : charge.SessionCostUsd);
        if (client is not null)
        {
            try
            {
                var (daily, monthly) = await budgets.GetBudgetsAsync(client, time.GetUtcNow(), cancellationToken).WaitAsync(LedgerWait, time, cancellationToken);
                receipt = receipt with { Day = ReceiptPeriod.Of(daily), Month = ReceiptPeriod.Of(monthly) };
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                receipt = receipt with { Budgets = "unavailable" };
            }
        }

        result.Meta ??= [];
        result.Meta[MetaKey] = JsonSerializer.SerializeToNode(receipt, ToolJson.Options);
        if (charge.Restored is { } restored)
        {
            result.Meta[RestoredKey] = JsonSerializer.SerializeToNode(
                new RestoredReceipt(charge.SessionId, restored.Reason, restored.CheckpointAt.ToString("O", CultureInfo.InvariantCulture), restored.Tabs, restored.NotRestored),
                ToolJson.Options);
        }

        if (charge.Handoff is { } handoff)
        {
            result.Meta[HandoffKey] = JsonSerializer.SerializeToNode(new HandoffReceipt(handoff.HandoffId, handoff.Outcome, handoff.At.ToString("O", CultureInfo.InvariantCulture)), ToolJson.Options);
        }
    }
}

/// <summary>How a hand-off to a person ended (<c>_meta["anchor/handoff"]</c>), on the agent's first action after it.</summary>
public sealed record HandoffReceipt(string HandoffId, string Outcome, string At);

/// <summary>The receipt of one tool call (<c>_meta["anchor/receipt"]</c>, snake_case by <see cref="ToolJson.Options"/>); members left out when they do not apply.</summary>
/// <param name="CostUsd">What this call was charged.</param>
/// <param name="SessionId">The session the call ran in, if any.</param>
/// <param name="SessionCostUsd">That session's cost so far.</param>
public sealed record ToolReceipt(
    decimal CostUsd,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SessionId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? SessionCostUsd)
{
    /// <summary>The caller's UTC day as the ledger holds it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ReceiptPeriod? Day { get; init; }

    /// <summary>The caller's UTC month as the ledger holds it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ReceiptPeriod? Month { get; init; }

    /// <summary><c>unavailable</c> when the ledgers did not answer in time (then there is no day or month).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Budgets { get; init; }
}

/// <summary>
/// One period as the ledger holds it for the caller: its own figures only; <c>limited_by_cluster</c> says that the
/// cluster-wide budget has less left than the caller's own <c>remaining_usd</c> (how much less is other tenants' business).
/// </summary>
public sealed record ReceiptPeriod(string Period, decimal SpentUsd, decimal ReservedUsd, decimal LimitUsd, decimal RemainingUsd, bool LimitedByCluster)
{
    public static ReceiptPeriod Of(PeriodBudgetStatus p) =>
        new(p.Period, p.Client.SpentUsd, p.Client.ReservedUsd, p.Client.LimitUsd, p.Client.RemainingUsd, p.LimitedByCluster);
}

/// <summary>Where a result says its session was rebuilt on another silo from its checkpoint (<c>_meta["anchor/restored"]</c>).</summary>
public sealed record RestoredReceipt(string? SessionId, string Reason, string CheckpointAt, int Tabs, IReadOnlyList<string> NotRestored);

/// <summary>What one tool call has been charged so far, and the session it ran in.</summary>
public sealed class ToolCharge
{
    private readonly Lock _gate = new();

    public decimal CostUsd { get; private set; }

    public string? SessionId { get; private set; }

    public decimal SessionCostUsd { get; private set; }

    public SessionRestored? Restored { get; private set; }

    public HandoffOutcome? Handoff { get; private set; }

    /// <summary>The session's page URL after the call, when the session said (for its timeline).</summary>
    public string? PageUrl { get; private set; }

    public void Add(string sessionId, decimal chargedUsd, decimal sessionCostUsd, SessionRestored? restored = null, HandoffOutcome? handoff = null, string? pageUrl = null)
    {
        lock (_gate)
        {
            PageUrl = pageUrl ?? PageUrl;
            Handoff ??= handoff;
            CostUsd += chargedUsd;
            SessionId = sessionId;
            SessionCostUsd = sessionCostUsd;
            Restored ??= restored;
        }
    }
}
