using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Interfaces.EmergencyStop;

/// <summary>
/// The cluster's emergency-shutdown switch (one activation, key 0, persisted). Tripped, it stays tripped across
/// restarts until reset; every silo's local view is pushed each change and polls it as a heartbeat.
/// </summary>
public interface IEmergencyStopGrain : IGrainWithIntegerKey
{
    /// <summary>Trips the switch (idempotent: tripping a tripped switch keeps the first reason).</summary>
    Task<EmergencyStopState> TripAsync(string reason, string actor, CancellationToken cancellationToken = default);

    /// <summary>Resets the switch (idempotent).</summary>
    Task<EmergencyStopState> ResetAsync(string actor, CancellationToken cancellationToken = default);

    [ReadOnly]
    Task<EmergencyStopState> GetStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Registers a silo's view for pushes and answers the current state; views call it periodically.</summary>
    Task<EmergencyStopState> SubscribeAsync(IEmergencyStopObserver observer, CancellationToken cancellationToken = default);

    Task UnsubscribeAsync(IEmergencyStopObserver observer, CancellationToken cancellationToken = default);

    /// <summary>Replaces the state with a backup (and pushes it to every view).</summary>
    Task<EmergencyStopState> RestoreAsync(EmergencyStopState state, CancellationToken cancellationToken = default);
}

/// <summary>A silo's local view of the switch, pushed to on every change.</summary>
public interface IEmergencyStopObserver : IGrainObserver
{
    [OneWay]
    Task OnChangedAsync(EmergencyStopState state);
}

/// <summary>
/// The switch as operators see it. <see cref="Version"/> grows with every change so views ignore stale answers;
/// <see cref="Audit"/> holds the latest trips and resets (who, when, why).
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.EmergencyStopState")]
public sealed record EmergencyStopState(
    [property: Id(0)] bool Tripped,
    [property: Id(1)] string? Reason,
    [property: Id(2)] string? TrippedBy,
    [property: Id(3)] DateTimeOffset? TrippedAt,
    [property: Id(4)] string? ResetBy,
    [property: Id(5)] DateTimeOffset? ResetAt,
    [property: Id(6)] long Version,
    [property: Id(7)] IReadOnlyList<EmergencyAuditEntry> Audit)
{
    public static EmergencyStopState Initial { get; } = new(false, null, null, null, null, null, 0, []);

    /// <summary>Value equality, the audit trail compared entry by entry.</summary>
    public bool Equals(EmergencyStopState? other) =>
        other is not null
        && Tripped == other.Tripped
        && Reason == other.Reason
        && TrippedBy == other.TrippedBy
        && TrippedAt == other.TrippedAt
        && ResetBy == other.ResetBy
        && ResetAt == other.ResetAt
        && Version == other.Version
        && Audit.SequenceEqual(other.Audit);

    public override int GetHashCode() => HashCode.Combine(Tripped, Reason, TrippedAt, Version, Audit.Count);
}

/// <summary>One trip or reset: <see cref="Action"/> is <c>trip</c> or <c>reset</c>.</summary>
[GenerateSerializer, Immutable, Alias("anchor.EmergencyAuditEntry")]
public sealed record EmergencyAuditEntry(
    [property: Id(0)] string Action,
    [property: Id(1)] string Actor,
    [property: Id(2)] string? Reason,
    [property: Id(3)] DateTimeOffset At);
