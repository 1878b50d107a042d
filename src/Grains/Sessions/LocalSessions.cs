using System.Collections.Concurrent;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// The sessions open on this silo, registered by their grains: the active-sessions gauge, what a drain must
/// close, and whether this silo still admits new sessions.
/// </summary>
public sealed class LocalSessions
{
    private readonly ConcurrentDictionary<string, string> _open = new();

    public int Count => _open.Count;

    public IReadOnlyCollection<string> SessionIds => [.. _open.Keys];

    /// <summary>False once the silo drains for shutdown: no new session opens here.</summary>
    public bool AcceptingNewSessions { get; private set; } = true;

    public void StopAccepting() => AcceptingNewSessions = false;

    internal void Add(string sessionId, string clientId) => _open[sessionId] = clientId;

    internal void Remove(string sessionId) => _open.TryRemove(sessionId, out _);
}
