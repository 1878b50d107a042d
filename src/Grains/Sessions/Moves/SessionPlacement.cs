using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Anchor.Orleans.Grains.Sessions.Moves;

/// <summary>
/// Where a session activates: on the silo whose front received the call (one hop less per action), unless that silo
/// drains for shutdown; then on another compatible silo, so a session moved off a draining silo is restored elsewhere
/// even when its next call reaches the draining silo's front.
/// </summary>
[Serializable, GenerateSerializer, Immutable, Alias("anchor.SessionPlacement")]
public sealed class SessionPlacement : PlacementStrategy
{
}

/// <summary>Places the grain with <see cref="SessionPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SessionPlacementAttribute() : PlacementAttribute(new SessionPlacement());

/// <summary>The director of <see cref="SessionPlacement"/>.</summary>
public sealed class SessionPlacementDirector(LocalSessions local) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hint)
        {
            return Task.FromResult(hint);
        }

        var here = context.LocalSilo;
        if (context.LocalSiloStatus == SiloStatus.Active && local.AcceptingNewSessions && compatible.Contains(here))
        {
            return Task.FromResult(here);
        }

        var others = compatible.Where(s => !s.Equals(here)).ToArray();
        var choices = others.Length > 0 ? others : compatible;
        return Task.FromResult(choices[Random.Shared.Next(choices.Length)]);
    }
}
