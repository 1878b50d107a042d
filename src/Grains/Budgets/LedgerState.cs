namespace Anchor.Orleans.Grains.Budgets;

// The budget ledger's storage (BudgetLedgerGrain): the head written with every change, and one entry per session.

/// <summary>The ledger's head: the period's totals, per-client totals (one per API key) and what already fired.</summary>
[GenerateSerializer, Alias("anchor.LedgerHead")]
public sealed class LedgerHead
{
    [Id(0)]
    public string Period { get; set; } = "";

    [Id(1)]
    public decimal SpentUsd { get; set; }

    [Id(2)]
    public decimal ReservedUsd { get; set; }

    [Id(3)]
    public long SessionsSettled { get; set; }

    [Id(4)]
    public Dictionary<string, ClientLedger> Clients { get; set; } = new(StringComparer.Ordinal);

    [Id(5)]
    public List<int> FiredThresholds { get; set; } = [];

    /// <summary>Whether this period's spend already tripped the emergency switch (once per day).</summary>
    [Id(6)]
    public bool EmergencyTripped { get; set; }
}

/// <summary>Spend of one client in one period.</summary>
[GenerateSerializer, Alias("anchor.ClientLedger")]
public sealed class ClientLedger
{
    [Id(0)]
    public decimal SpentUsd { get; set; }

    [Id(1)]
    public decimal ReservedUsd { get; set; }

    [Id(2)]
    public long SessionsSettled { get; set; }
}

/// <summary>One session's record: its open reservation, or, once <see cref="SettledAt"/> is set, the marker that it was settled.</summary>
[GenerateSerializer, Alias("anchor.LedgerSessionEntry")]
public sealed class LedgerSessionEntry
{
    [Id(0)]
    public string ClientId { get; set; } = "";

    [Id(1)]
    public decimal AmountUsd { get; set; }

    [Id(2)]
    public DateTimeOffset ReservedAt { get; set; }

    [Id(3)]
    public DateTimeOffset? SettledAt { get; set; }

    public bool IsSettled => SettledAt is not null;
}
