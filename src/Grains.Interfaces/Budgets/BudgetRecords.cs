namespace Anchor.Orleans.Grains.Interfaces.Budgets;

/// <summary>Which limit refused a reservation.</summary>
public enum BudgetScope
{
    Global,
    Client,
}

/// <summary>The answer to a reservation: granted, or refused by <see cref="RefusedBy"/> whose limit is <see cref="LimitUsd"/>.</summary>
[GenerateSerializer, Immutable, Alias("anchor.ReserveResult")]
public sealed record ReserveResult(
    [property: Id(0)] bool Granted,
    [property: Id(1)] BudgetScope? RefusedBy,
    [property: Id(2)] decimal LimitUsd,
    [property: Id(3)] decimal CommittedUsd,
    [property: Id(4)] bool AlreadySettled = false);

/// <summary>The answer to a settlement: whether this call settled the session, and what it charged.</summary>
[GenerateSerializer, Immutable, Alias("anchor.SettleResult")]
public sealed record SettleResult([property: Id(0)] bool Settled, [property: Id(1)] decimal ChargedUsd, [property: Id(2)] decimal ReleasedUsd);

/// <summary>Room left in one period: the first limit that is used up, if any.</summary>
[GenerateSerializer, Immutable, Alias("anchor.LedgerRoom")]
public sealed record LedgerRoom(
    [property: Id(0)] BudgetScope? ExhaustedBy,
    [property: Id(1)] decimal GlobalLimitUsd,
    [property: Id(2)] decimal GlobalCommittedUsd,
    [property: Id(3)] decimal ClientLimitUsd,
    [property: Id(4)] decimal ClientCommittedUsd);

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

/// <summary>An open reservation of one session.</summary>
[GenerateSerializer, Alias("anchor.OpenReservation")]
public sealed class OpenReservation
{
    [Id(0)]
    public string ClientId { get; set; } = "";

    [Id(1)]
    public decimal AmountUsd { get; set; }

    [Id(2)]
    public DateTimeOffset ReservedAt { get; set; }
}

/// <summary>
/// The persisted state of a budget ledger, also its backup form. <see cref="Settled"/> remembers recently settled
/// sessions so a late top-up cannot open a second reservation; <see cref="FiredThresholds"/> the alerts already raised.
/// </summary>
[GenerateSerializer, Alias("anchor.BudgetLedgerState")]
public sealed class BudgetLedgerState
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
    public Dictionary<string, OpenReservation> Reservations { get; set; } = new(StringComparer.Ordinal);

    [Id(6)]
    public Dictionary<string, DateTimeOffset> Settled { get; set; } = new(StringComparer.Ordinal);

    [Id(7)]
    public List<int> FiredThresholds { get; set; } = [];

    /// <summary>Whether this period's spend already tripped the emergency switch (once per day).</summary>
    [Id(8)]
    public bool EmergencyTripped { get; set; }
}

/// <summary>Totals of one period without per-session records.</summary>
[GenerateSerializer, Immutable, Alias("anchor.LedgerTotals")]
public sealed record LedgerTotals(
    [property: Id(0)] string Period,
    [property: Id(1)] decimal SpentUsd,
    [property: Id(2)] decimal ReservedUsd,
    [property: Id(3)] long SessionsSettled,
    [property: Id(4)] decimal LimitUsd,
    [property: Id(5)] IReadOnlyDictionary<string, ClientTotals> Clients);

[GenerateSerializer, Immutable, Alias("anchor.ClientTotals")]
public sealed record ClientTotals([property: Id(0)] decimal SpentUsd, [property: Id(1)] decimal ReservedUsd, [property: Id(2)] long SessionsSettled);
