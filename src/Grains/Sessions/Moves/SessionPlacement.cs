using Anchor.Orleans.Grains.Sessions.Load;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Anchor.Orleans.Grains.Sessions.Moves;

/// <summary>
/// Where a session activates: on the silo whose front received the call (one hop less per action) while that silo is
/// under its load thresholds and not draining for shutdown; otherwise on the least loaded compatible silo
/// (<see cref="LoadPlacement"/>), so a session moved off a draining silo is restored elsewhere even when its next call
/// reaches the draining silo's front, and new sessions avoid a silo whose CPU or memory is near its limit.
/// </summary>
[Serializable, GenerateSerializer, Immutable, Alias("anchor.SessionPlacement")]
public sealed class SessionPlacement : PlacementStrategy
{
}

/// <summary>Places the grain with <see cref="SessionPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SessionPlacementAttribute() : PlacementAttribute(new SessionPlacement());

/// <summary>The director of <see cref="SessionPlacement"/>.</summary>
public sealed class SessionPlacementDirector(LocalSessions local, SiloLoads loads) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hint)
        {
            return Task.FromResult(hint);
        }

        var here = context.LocalSilo;
        var hereOpen = context.LocalSiloStatus == SiloStatus.Active && local.AcceptingNewSessions && compatible.Contains(here);
        var chosen = LoadPlacement.Choose(here, hereOpen, compatible, loads.Cluster(), Random.Shared);
        loads.Placed(chosen);
        return Task.FromResult(chosen);
    }
}
