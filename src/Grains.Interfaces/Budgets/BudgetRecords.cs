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

/// <summary>
/// The backup form of one budget period (governance export/import): totals, each open reservation, and the recently
/// settled sessions (<see cref="Settled"/>, so a restored ledger still refuses a second reservation for them). Not the
/// grain's storage: the ledger persists its totals and per-session records separately.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.LedgerBackup")]
public sealed record LedgerBackup(
    [property: Id(0)] string Period,
    [property: Id(1)] decimal SpentUsd,
    [property: Id(2)] decimal ReservedUsd,
    [property: Id(3)] long SessionsSettled,
    [property: Id(4)] IReadOnlyDictionary<string, ClientBackup> Clients,
    [property: Id(5)] IReadOnlyDictionary<string, ReservationBackup> Reservations,
    [property: Id(6)] IReadOnlyDictionary<string, DateTimeOffset> Settled,
    [property: Id(7)] IReadOnlyList<int> FiredThresholds,
    [property: Id(8)] bool EmergencyTripped);

/// <summary>Spend of one client in one period, as backed up.</summary>
[GenerateSerializer, Immutable, Alias("anchor.ClientBackup")]
public sealed record ClientBackup([property: Id(0)] decimal SpentUsd, [property: Id(1)] decimal ReservedUsd, [property: Id(2)] long SessionsSettled);

/// <summary>An open reservation of one session, as backed up.</summary>
[GenerateSerializer, Immutable, Alias("anchor.ReservationBackup")]
public sealed record ReservationBackup([property: Id(0)] string ClientId, [property: Id(1)] decimal AmountUsd, [property: Id(2)] DateTimeOffset ReservedAt);

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
