using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions.Queueing;

/// <summary>What a lease request finds of a slot offered to its session.</summary>
public enum SlotClaim
{
    /// <summary>No slot was offered to it.</summary>
    None,

    /// <summary>A slot was offered to it and is now taken.</summary>
    Taken,

    /// <summary>The slot offered under this session id is another client's: nothing is told, nothing moves.</summary>
    Foreign,
}

/// <summary>
/// The registry's slot bookkeeping beyond its leases: requests waiting for a slot (fair across clients,
/// <see cref="FairQueue{T}"/>) and slots offered to them. Memory only: a registry that moves loses them, and its waiters,
/// told Unknown at their next poll, queue again; slots are only ever held by leases and live offers. Every step between
/// awaits is synchronous and leaves the queue consistent, so its calls may interleave.
/// </summary>
public sealed partial class SlotQueue(
    Func<IReadOnlyDictionary<string, SessionLease>> leases, IOptionsMonitor<SessionsOptions> options, TimeProvider time, ILogger logger)
{
    /// <summary>How long a slot offered to a waiter stays held for it; its front claims it at once unless it is gone.</summary>
    public static readonly TimeSpan OfferClaimWindow = TimeSpan.FromSeconds(10);

    /// <summary>A waiter with no poll under way for this long is gone (its front died or gave up) and is dropped.</summary>
    public static readonly TimeSpan WaiterStaleAfter = TimeSpan.FromSeconds(10);

    private readonly FairQueue<SlotWaiter> _queue = new(w => w.SessionId, w => w.ClientId);
    private readonly Dictionary<string, SlotOffer> _offers = new(StringComparer.Ordinal);
    private TaskCompletionSource _queueChanged = NewSignal();

    /// <summary>Whether every slot is taken (by leases and offers).</summary>
    public bool Full => Held() >= options.CurrentValue.MaxConcurrent;

    /// <summary>Session requests waiting in the fair queue.</summary>
    public int Waiting => _queue.Count;

    /// <summary>The answer to a request for a session id held by another client.</summary>
    public static LeaseResult NotYours(string sessionId) =>
        new(false, ErrorCodes.SessionNotFound, $"session_not_found: no session '{sessionId}' for this client.", null);

    /// <summary>Takes the slot offered to <paramref name="sessionId"/>, if it is <paramref name="clientId"/>'s.</summary>
    public SlotClaim Claim(string sessionId, string clientId)
    {
        if (!_offers.Remove(sessionId, out var offer))
        {
            return SlotClaim.None;
        }

        if (offer.ClientId != clientId)
        {
            _offers[sessionId] = offer;
            return SlotClaim.Foreign;
        }

        return SlotClaim.Taken;
    }

    /// <summary>The answer to a request that is already waiting (its position), or to another client's; null when it is not queued.</summary>
    public LeaseResult? Queued(string sessionId, string clientId) => _queue.Find(sessionId) is not { } waiting ? null
        : waiting.ClientId != clientId ? NotYours(sessionId)
        : new LeaseResult(false, ErrorCodes.ConcurrencyLimit, null, null, Queued: WaitOf(waiting, SlotWaitState.Queued));

    /// <summary>
    /// Whether a request may take a slot now: refused at its client's cap (<paramref name="maxPerClient"/>, counting its
    /// waiting requests), queued from <paramref name="now"/> when every slot is taken (or refused when <c>Sessions:QueueTimeoutSeconds</c> is 0);
    /// null when it may.
    /// </summary>
    public LeaseResult? Admit(string sessionId, string clientId, int maxPerClient, DateTimeOffset now)
    {
        var o = options.CurrentValue;
        var mine = HeldBy(clientId);
        if (mine + _queue.CountOf(clientId) >= maxPerClient)
        {
            var waiting = _queue.CountOf(clientId) is > 0 and var n ? $" and {n} waiting" : "";
            return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, $"concurrency_limit: this client has {mine} of {maxPerClient} sessions open{waiting}; close one (browser_session_close) first.", null, RetryAfter(clientId));
        }

        if (Held() < o.MaxConcurrent)
        {
            return null;
        }

        if (o.QueueTimeoutSeconds == 0)
        {
            var retry = RetryAfter(null);
            return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, $"concurrency_limit: {Held()} of {o.MaxConcurrent} browser sessions are open cluster-wide; close one (browser_session_close) or retry after {Seconds(retry)} s.", null, retry);
        }

        var waiter = new SlotWaiter(sessionId, clientId, maxPerClient, now.AddSeconds(o.QueueTimeoutSeconds), now);
        _queue.Enqueue(waiter);
        LogQueued(logger, sessionId, clientId, _queue.PositionOf(sessionId), _queue.Count);
        Signal();
        return new LeaseResult(false, ErrorCodes.ConcurrencyLimit, null, null, Queued: WaitOf(waiter, SlotWaitState.Queued));
    }

    /// <summary>
    /// Answers a waiting request's poll: at once when its position moved from <paramref name="knownPosition"/> or it is no
    /// longer simply waiting, else when the queue changes or <paramref name="maxWait"/> passes.
    /// </summary>
    public async Task<SlotWait> WaitAsync(string sessionId, string clientId, int knownPosition, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        Grant();
        if (!IsWaitOf(sessionId, clientId))
        {
            // Another client's request (or none): nothing about it is told, and polling it keeps nothing alive.
            return new SlotWait(SlotWaitState.Unknown, 0, _queue.Count, time.GetUtcNow());
        }

        if (Answer(sessionId) is { } settled)
        {
            return settled;
        }

        var waiter = _queue.Find(sessionId)!;
        waiter.LastSeen = time.GetUtcNow();
        if (_queue.PositionOf(sessionId) != knownPosition)
        {
            return WaitOf(waiter, SlotWaitState.Queued);
        }

        var wait = Min(maxWait, waiter.Deadline - time.GetUtcNow());
        waiter.Polling++;
        try
        {
            // Wakes on any change of the queue (a grant, a leaver), so positions are reported as they move.
            await _queueChanged.Task.WaitAsync(wait, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            waiter.Polling--;
            waiter.LastSeen = time.GetUtcNow();
        }

        Grant();
        return Answer(sessionId) ?? WaitOf(waiter, SlotWaitState.Queued);
    }

    /// <summary>Drops <paramref name="clientId"/>'s waiting request or offered slot for <paramref name="sessionId"/>.</summary>
    public void Leave(string sessionId, string clientId)
    {
        if (IsWaitOf(sessionId, clientId) && (_queue.Remove(sessionId) | _offers.Remove(sessionId)))
        {
            Signal();
            Grant();
        }
    }

    /// <summary>
    /// Lapses offers nobody took and drops waiters that stopped asking or outlived their deadline, then offers free
    /// slots to waiters in fair order (skipping those at their client's cap). Synchronous: safe to interleave.
    /// </summary>
    public void Grant()
    {
        var now = time.GetUtcNow();
        var changed = false;
        foreach (var (id, offer) in _offers.Where(o => now >= o.Value.ExpiresAt).ToList())
        {
            _offers.Remove(id);
            changed = true;
            LogOfferLapsed(logger, id, offer.ClientId);
        }

        foreach (var gone in _queue.InServiceOrder().Where(w => (w.Polling == 0 && now - w.LastSeen >= WaiterStaleAfter) || now >= w.Deadline + WaiterStaleAfter).ToList())
        {
            _queue.Remove(gone.SessionId);
            changed = true;
        }

        var max = options.CurrentValue.MaxConcurrent;
        while (Held() < max && _queue.Dequeue(w => HeldBy(w.ClientId) < w.MaxPerClient) is { } next)
        {
            _offers[next.SessionId] = new SlotOffer(next.ClientId, now + OfferClaimWindow);
            changed = true;
            LogOffered(logger, next.SessionId, next.ClientId);
        }

        if (changed)
        {
            Signal();
        }
    }

    /// <summary>
    /// Whether whatever <paramref name="sessionId"/> names here (a waiter, an offer, a lease) is <paramref name="clientId"/>'s;
    /// true when it names nothing.
    /// </summary>
    private bool IsWaitOf(string sessionId, string clientId) =>
        _queue.Find(sessionId) is { } waiter ? waiter.ClientId == clientId
        : _offers.TryGetValue(sessionId, out var offer) ? offer.ClientId == clientId
        : !leases().TryGetValue(sessionId, out var lease) || lease.ClientId == clientId;

    /// <summary>Slots taken: open leases and slots offered to waiters.</summary>
    private int Held() => leases().Count + _offers.Count;

    private int HeldBy(string clientId) =>
        leases().Values.Count(l => l.ClientId == clientId) + _offers.Values.Count(o => o.ClientId == clientId);

    /// <summary>The answer for a request that is no longer simply waiting; null while it waits.</summary>
    private SlotWait? Answer(string sessionId)
    {
        var now = time.GetUtcNow();
        if (_offers.ContainsKey(sessionId) || leases().ContainsKey(sessionId))
        {
            return new SlotWait(SlotWaitState.Offered, 0, _queue.Count, now);
        }

        if (_queue.Find(sessionId) is not { } waiter)
        {
            return new SlotWait(SlotWaitState.Unknown, 0, _queue.Count, now);
        }

        if (now < waiter.Deadline)
        {
            return null;
        }

        _queue.Remove(sessionId);
        Signal();
        var o = options.CurrentValue;
        var retry = RetryAfter(null);
        var waited = Seconds(waiter.Deadline - waiter.EnqueuedAt);
        return new SlotWait(SlotWaitState.Expired, 0, _queue.Count, waiter.Deadline, retry,
            $"concurrency_limit: no browser session slot came free in {waited} s ({Held()} of {o.MaxConcurrent} open cluster-wide, {_queue.Count} waiting); retry after {Seconds(retry)} s.");
    }

    private SlotWait WaitOf(SlotWaiter waiter, SlotWaitState state) =>
        new(state, _queue.PositionOf(waiter.SessionId), _queue.Count, waiter.Deadline);

    /// <summary>
    /// When a retry can expect a slot: the soonest an open lease (the client's own, for its cap) reaches its maximum
    /// duration — a slot frees then at the latest. At least one second.
    /// </summary>
    private TimeSpan RetryAfter(string? clientId)
    {
        var now = time.GetUtcNow();
        var soonest = leases().Values.Where(l => clientId is null || l.ClientId == clientId).Select(l => l.ExpiresAt - now).DefaultIfEmpty(OfferClaimWindow).Min();
        return soonest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : soonest;
    }

    private static int Seconds(TimeSpan span) => Math.Max(1, (int)Math.Ceiling(span.TotalSeconds));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : (b < TimeSpan.Zero ? TimeSpan.Zero : b);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes every waiting poll (positions moved or a slot was offered).</summary>
    private void Signal() => Interlocked.Exchange(ref _queueChanged, NewSignal()).TrySetResult();

    /// <summary>A request waiting for a slot (memory only).</summary>
    private sealed class SlotWaiter(string sessionId, string clientId, int maxPerClient, DateTimeOffset deadline, DateTimeOffset now)
    {
        public string SessionId { get; } = sessionId;

        public string ClientId { get; } = clientId;

        public int MaxPerClient { get; } = maxPerClient;

        public DateTimeOffset EnqueuedAt { get; } = now;

        public DateTimeOffset Deadline { get; } = deadline;

        /// <summary>When its last poll ended; with no poll under way for <see cref="WaiterStaleAfter"/>, it is gone.</summary>
        public DateTimeOffset LastSeen { get; set; } = now;

        public int Polling { get; set; }
    }

    private sealed record SlotOffer(string ClientId, DateTimeOffset ExpiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {ClientId} queued for a slot at position {Position} of {Waiting}")]
    private static partial void LogQueued(ILogger logger, string sessionId, string clientId, int position, int waiting);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slot offered to queued session {SessionId} of {ClientId}")]
    private static partial void LogOffered(ILogger logger, string sessionId, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slot offered to session {SessionId} of {ClientId} lapsed untaken; offered to the next waiter")]
    private static partial void LogOfferLapsed(ILogger logger, string sessionId, string clientId);
}
