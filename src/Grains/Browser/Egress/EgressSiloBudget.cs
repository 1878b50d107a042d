namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// The silo's byte budget across every session of its browser (<see cref="BrowserOptions.MaxSiloBytesPerMinute"/>),
/// shared fairly: while the silo is within it, each session is bounded only by its own budget; once the silo went
/// past it in the last minute, a session that received more than its share (the budget divided by the sessions
/// open) is cut off like one past its own budget. The sessions within their share keep going, so everything the
/// silo receives in a minute stays within the budget plus what the sessions under their share take, and a heavy
/// session cannot starve the others.
/// </summary>
/// <remarks>A sliding minute (<see cref="EgressByteWindow"/>), like the sessions' own.</remarks>
internal sealed class EgressSiloBudget(Func<long> bytesPerMinute, Func<int> openSessions, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly EgressByteWindow _minute = new();

    /// <summary>The silo's budget now.</summary>
    public long BytesPerMinute => bytesPerMinute();

    /// <summary>A session's share of the budget now.</summary>
    public long Share => BytesPerMinute / Math.Max(1, openSessions());

    /// <summary>
    /// Counts <paramref name="bytes"/> a session received; true when the silo is past its budget in the last minute
    /// and that session, having received <paramref name="sessionWindowBytes"/> in it, is past its share.
    /// </summary>
    public bool Count(int bytes, long sessionWindowBytes)
    {
        long silo;
        lock (_gate)
        {
            silo = _minute.Add(bytes, time.GetUtcNow());
        }

        return silo > BytesPerMinute && sessionWindowBytes > Share;
    }
}
