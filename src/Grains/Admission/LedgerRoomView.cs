using System.Collections.Concurrent;
using Anchor.Orleans.Grains.Interfaces.Budgets;

namespace Anchor.Orleans.Grains.Admission;

/// <summary>
/// This silo's view of the ledgers' room, for admission: the answer of <see cref="IBudgetLedgerGrain.CheckRoomAsync"/>
/// per period and client, reused for at most <see cref="MaxAge"/>. Admission is then one grain call (the rate
/// limiter) instead of three, which doubled admissions per second on two cores (bench/results).
/// </summary>
/// <remarks>
/// Money does not depend on this view: every spend is a reservation, which the ledger grants or refuses exactly, so a
/// stale answer can only let a tool call start that the session then pays from what it already reserved, or refuse one
/// for at most <see cref="MaxAge"/> after room came back. Changes made through this silo (reservations, settlements,
/// releases, restores) are seen at once: they call <see cref="Changed"/>, which retires every cached answer. Changes
/// made through another silo are seen within <see cref="MaxAge"/>.
/// </remarks>
public sealed class LedgerRoomView(IGrainFactory grains, TimeProvider time)
{
    /// <summary>How long an answer is reused: the most a change made through another silo takes to reach admissions here.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<(string Period, string ClientId), Answer> _answers = new();
    private long _generation;

    /// <summary>The room in <paramref name="period"/> for <paramref name="clientId"/> whose limit there is <paramref name="clientLimitUsd"/>.</summary>
    public Task<LedgerRoom> CheckRoomAsync(string period, string clientId, decimal clientLimitUsd, CancellationToken cancellationToken = default)
    {
        var key = (period, clientId);
        var now = time.GetTimestamp();
        var generation = Interlocked.Read(ref _generation);
        if (_answers.TryGetValue(key, out var cached)
            && cached.Generation == generation
            && cached.ClientLimitUsd == clientLimitUsd
            && time.GetElapsedTime(cached.AskedAt, now) < MaxAge
            && !cached.Room.IsFaulted
            && !cached.Room.IsCanceled)
        {
            return cached.Room.WaitAsync(cancellationToken);
        }

        // Concurrent callers share one question; the generation is taken before asking, so an answer that raced with
        // a change is never reused after it.
        // The shared question is not cancelled by whoever asked first; each caller stops waiting on its own token.
        var room = grains.GetGrain<IBudgetLedgerGrain>(period).CheckRoomAsync(clientId, clientLimitUsd, CancellationToken.None);
        _answers[key] = new Answer(room, generation, clientLimitUsd, now);
        return room.WaitAsync(cancellationToken);
    }

    /// <summary>A ledger changed through this silo: no answer from before may be reused.</summary>
    public void Changed()
    {
        Interlocked.Increment(ref _generation);
        // Old answers are now unusable; drop them so the dictionary holds only the clients active since.
        _answers.Clear();
    }

    private sealed record Answer(Task<LedgerRoom> Room, long Generation, decimal ClientLimitUsd, long AskedAt);
}
