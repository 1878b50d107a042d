using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Mcp;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Mcp;

/// <summary>
/// One key's open transport sessions and SSE streams (see <see cref="IMcpClientTransportsGrain"/>). The ids are stored
/// (at most the caps), so a silo's loss hands the key no fresh caps. Room made for a transport session before its id
/// exists (an <c>initialize</c> on its way through the SDK) is held for <see cref="HoldFor"/> and counts against the
/// cap until the session is recorded, so concurrent initializes cannot overshoot it. Nothing is
/// told when a session or stream ends on its own: at the cap the entries are asked when they last served a request, and
/// those that answer "gone" are dropped — one question per entry, only when the key is full.
/// </summary>
public sealed partial class McpClientTransportsGrain(
    [PersistentState("mcpClientTransports", OrleansHostingExtensions.StorageName)] IPersistentState<McpClientTransportsRecord> state,
    IGrainFactory grains,
    TimeProvider time,
    ILogger<McpClientTransportsGrain> logger) : Grain, IMcpClientTransportsGrain
{
    /// <summary>How long an entry may take to say when it was last used; past it, it counts as gone.</summary>
    private static readonly TimeSpan AskLimit = TimeSpan.FromSeconds(5);

    /// <summary>How long room made for a transport session that is not recorded yet is kept for it.</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(30);

    // When each hold lapses (transport sessions only; in memory: a lost activation frees them, which errs on the open side).
    private readonly List<DateTimeOffset> _holds = [];

    public async Task<TransportAdmission> OpenAsync(McpTransportKind kind, string id, int cap, TimeSpan idleAfter, CancellationToken cancellationToken = default)
    {
        if (kind == McpTransportKind.Session && LiveHolds() > 0)
        {
            _holds.RemoveAt(0); // The session room was made for is now recorded in its place.
        }

        var admission = await FitAsync(kind, cap, idleAfter, cancellationToken);
        if (admission.Allowed && state.State.Open.TryAdd(id, kind))
        {
            await state.WriteStateAsync(cancellationToken);
            admission = admission with { Open = Count(kind) };
        }

        return admission;
    }

    public async Task<TransportAdmission> MakeRoomAsync(McpTransportKind kind, int cap, TimeSpan idleAfter, CancellationToken cancellationToken = default)
    {
        var admission = await FitAsync(kind, cap, idleAfter, cancellationToken);
        if (admission.Allowed && kind == McpTransportKind.Session)
        {
            _holds.Add(time.GetUtcNow() + HoldFor);
        }

        return admission;
    }

    /// <summary>Whether one more of <paramref name="kind"/> fits under <paramref name="cap"/>, ending idle ones (and forgetting gone ones) to make room.</summary>
    private async Task<TransportAdmission> FitAsync(McpTransportKind kind, int cap, TimeSpan idleAfter, CancellationToken cancellationToken)
    {
        if (Count(kind) < cap)
        {
            return new TransportAdmission(true, Count(kind), cap, null, TimeSpan.Zero);
        }

        // Full: ask every entry of this kind when it was last used; drop those that are gone.
        var ids = state.State.Open.Where(e => e.Value == kind).Select(e => e.Key).ToList();
        var seen = await Task.WhenAll(ids.Select(id => LastSeenAsync(kind, id)));
        var live = ids.Zip(seen).Where(p => p.Second is not null).Select(p => (Id: p.First, LastSeen: p.Second!.Value)).OrderBy(p => p.LastSeen).ToList();
        var dropped = ids.Count - live.Count;
        foreach (var (id, _) in ids.Zip(seen).Where(p => p.Second is null))
        {
            state.State.Open.Remove(id);
        }

        string? reclaimed = null;
        var now = time.GetUtcNow();
        var held = kind == McpTransportKind.Session ? LiveHolds() : 0;
        if (live.Count + held >= cap && live.Count > 0)
        {
            var oldest = live[0];
            if (now - oldest.LastSeen < idleAfter)
            {
                if (dropped > 0)
                {
                    await state.WriteStateAsync(cancellationToken);
                }

                var retry = oldest.LastSeen + idleAfter - now;
                return new TransportAdmission(false, live.Count + held, cap, null, held > 0 && _holds.Min() - now < retry ? _holds.Min() - now : retry);
            }

            // Room for one: end the least recently used idle ones until there is.
            foreach (var (id, _) in live.Take(Math.Min(live.Count, live.Count + held - cap + 1)).TakeWhile(p => now - p.LastSeen >= idleAfter))
            {
                await ReclaimAsync(kind, id);
                state.State.Open.Remove(id);
                reclaimed ??= id;
                LogReclaimed(logger, this.GetPrimaryKeyString(), kind);
            }
        }

        await state.WriteStateAsync(cancellationToken);
        return Count(kind) < cap
            ? new TransportAdmission(true, Count(kind), cap, reclaimed, TimeSpan.Zero)
            : new TransportAdmission(false, Count(kind), cap, reclaimed, live.Count > 0 ? live[^1].LastSeen + idleAfter - now : held > 0 ? _holds.Min() - now : idleAfter);
    }

    public async Task CloseAsync(McpTransportKind kind, string id, CancellationToken cancellationToken = default)
    {
        if (state.State.Open.Remove(id))
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    private int Count(McpTransportKind kind) => state.State.Open.Count(e => e.Value == kind) + (kind == McpTransportKind.Session ? LiveHolds() : 0);

    /// <summary>Holds not lapsed yet (lapsed ones are forgotten).</summary>
    private int LiveHolds()
    {
        var now = time.GetUtcNow();
        _holds.RemoveAll(lapse => lapse <= now);
        return _holds.Count;
    }

    private async Task<DateTimeOffset?> LastSeenAsync(McpTransportKind kind, string id)
    {
        try
        {
            var ask = kind == McpTransportKind.Session
                ? grains.GetGrain<IMcpTransportSessionGrain>(id).LastSeenAsync()
                : grains.GetGrain<ILegacySseStreamGrain>(id).LastSeenAsync();
            return await ask.WaitAsync(AskLimit, time);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // A stream whose silo died, or a session whose grain cannot answer now: counted as gone, so a dead silo's
            // streams do not hold the key's room. A session that comes back is still served (its own grain decides).
            LogAskFailed(logger, this.GetPrimaryKeyString(), kind, ex);
            return null;
        }
    }

    private async Task ReclaimAsync(McpTransportKind kind, string id)
    {
        try
        {
            if (kind == McpTransportKind.Session)
            {
                await grains.GetGrain<IMcpTransportSessionGrain>(id).EndAsync(this.GetPrimaryKeyString()).WaitAsync(AskLimit, time);
            }
            else
            {
                await grains.GetGrain<ILegacySseStreamGrain>(id).ReclaimAsync().WaitAsync(AskLimit, time);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            LogAskFailed(logger, this.GetPrimaryKeyString(), kind, ex);
        }
    }

    // Transport ids are not logged: each is its client's handle on the session.
    [LoggerMessage(Level = LogLevel.Information, Message = "Client {ClientId} at its {Kind} cap: ended its least recently used idle one")]
    private static partial void LogReclaimed(ILogger logger, string clientId, McpTransportKind kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {ClientId}: a {Kind} did not answer; counted as gone")]
    private static partial void LogAskFailed(ILogger logger, string clientId, McpTransportKind kind, Exception exception);
}

/// <summary>Storage of <see cref="McpClientTransportsGrain"/>: the open ids and what each is.</summary>
[GenerateSerializer, Alias("anchor.McpClientTransportsRecord")]
public sealed class McpClientTransportsRecord
{
    [Id(0)]
    public Dictionary<string, McpTransportKind> Open { get; set; } = new(StringComparer.Ordinal);
}
