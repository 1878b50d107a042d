using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.EmergencyStop;

/// <summary>Closes every session in the cluster when the switch trips (a seam so grain tests can observe it).</summary>
public interface IEmergencySessionCloser
{
    Task<int> CloseAllAsync(CancellationToken cancellationToken = default);
}

/// <summary>Closes sessions through the cluster-wide session registry, which closes and settles each one.</summary>
public sealed class RegistrySessionCloser(IGrainFactory grains) : IEmergencySessionCloser
{
    public Task<int> CloseAllAsync(CancellationToken cancellationToken = default) =>
        grains.GetGrain<ISessionRegistryGrain>(0).CloseAllAsync(SessionEndReason.Emergency);
}
