using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Sessions;
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
    public static void Charge(MessageContext context, string sessionId, decimal chargedUsd, decimal sessionCostUsd, SessionRestored? restored = null)
    {
        if (context.Items.TryGetValue(ItemKey, out var item) && item is ToolCharge charge)
        {
            charge.Add(sessionId, chargedUsd, sessionCostUsd, restored);
        }
    }

    /// <summary>Writes the receipt into <paramref name="result"/>. Budgets are read best-effort (a ledger failing over leaves them out).</summary>
    public static async Task WriteAsync(CallToolResult result, ToolCharge charge, ClientPolicy? client, BudgetStatus budgets, TimeProvider time, CancellationToken cancellationToken)
    {
        var receipt = new JsonObject { ["cost_usd"] = charge.CostUsd };
        if (charge.SessionId is { } sessionId)
        {
            receipt["session_id"] = sessionId;
            receipt["session_cost_usd"] = charge.SessionCostUsd;
        }

        if (client is not null)
        {
            try
            {
                var (daily, monthly) = await budgets.GetBudgetsAsync(client, time.GetUtcNow(), cancellationToken).WaitAsync(LedgerWait, time, cancellationToken);
                receipt["day"] = Period(daily);
                receipt["month"] = Period(monthly);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                receipt["budgets"] = "unavailable";
            }
        }

        result.Meta ??= [];
        result.Meta[MetaKey] = receipt;
        if (charge.Restored is { } restored)
        {
            result.Meta[RestoredKey] = new JsonObject
            {
                ["session_id"] = charge.SessionId,
                ["reason"] = restored.Reason,
                ["checkpoint_at"] = restored.CheckpointAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["tabs"] = restored.Tabs,
                ["not_restored"] = new JsonArray([.. restored.NotRestored.Select(p => (JsonNode?)JsonValue.Create(p))]),
            };
        }
    }

    /// <summary>
    /// One period as the ledger holds it for the caller: its own figures only; <c>limited_by_cluster</c> says that the
    /// cluster-wide budget has less left than the caller's own <c>remaining_usd</c> (how much less is other tenants' business).
    /// </summary>
    private static JsonObject Period(PeriodBudgetStatus p) => new()
    {
        ["period"] = p.Period,
        ["spent_usd"] = p.Client.SpentUsd,
        ["reserved_usd"] = p.Client.ReservedUsd,
        ["limit_usd"] = p.Client.LimitUsd,
        ["remaining_usd"] = p.Client.RemainingUsd,
        ["limited_by_cluster"] = p.LimitedByCluster,
    };
}

/// <summary>What one tool call has been charged so far, and the session it ran in.</summary>
public sealed class ToolCharge
{
    private readonly Lock _gate = new();

    public decimal CostUsd { get; private set; }

    public string? SessionId { get; private set; }

    public decimal SessionCostUsd { get; private set; }

    public SessionRestored? Restored { get; private set; }

    public void Add(string sessionId, decimal chargedUsd, decimal sessionCostUsd, SessionRestored? restored = null)
    {
        lock (_gate)
        {
            CostUsd += chargedUsd;
            SessionId = sessionId;
            SessionCostUsd = sessionCostUsd;
            Restored ??= restored;
        }
    }
}
