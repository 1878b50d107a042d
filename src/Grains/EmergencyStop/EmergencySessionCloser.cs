using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;

namespace Anchor.Orleans.Grains.EmergencyStop;

/// <summary>Closes every session in the cluster when the switch trips (a seam so grain tests can observe it).</summary>
public interface IEmergencySessionCloser
{
    Task<int> CloseAllAsync(CancellationToken cancellationToken = default);
}

/// <summary>Closes every session in the cluster through its grain, which settles it and frees its slot.</summary>
public sealed class RegistrySessionCloser(SessionCloser closer) : IEmergencySessionCloser
{
    public Task<int> CloseAllAsync(CancellationToken cancellationToken = default) =>
        closer.CloseAllAsync(SessionEndReason.Emergency);
}
