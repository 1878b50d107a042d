namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// Bytes received within the last minute, sliding by the second: sixty one-second counts, so whatever minute one looks
/// at holds at most what the budget allows. A fixed window (counts reset every minute) let a transfer that crossed its
/// end through at twice the budget: a page that had half of it in one window and the rest in the next was never cut.
/// Not thread-safe: the owner serialises calls.
/// </summary>
internal sealed class EgressByteWindow
{
    private const int Seconds = 60;

    private readonly long[] _bytes = new long[Seconds];
    private long _current = long.MinValue;
    private long _total;

    /// <summary>The span the counts cover (<see cref="EgressSession.Window"/>).</summary>
    public static TimeSpan Span => TimeSpan.FromSeconds(Seconds);

    /// <summary>Counts <paramref name="bytes"/> received at <paramref name="now"/>; returns the minute's total with them.</summary>
    public long Add(long bytes, DateTimeOffset now)
    {
        Advance(now);
        _bytes[Slot(_current)] += bytes;
        _total += bytes;
        return _total;
    }

    /// <summary>Bytes received in the minute up to <paramref name="now"/>.</summary>
    public long Total(DateTimeOffset now)
    {
        Advance(now);
        return _total;
    }

    /// <summary>Forgets every count.</summary>
    public void Clear()
    {
        Array.Clear(_bytes);
        _total = 0;
    }

    /// <summary>Drops the seconds that left the minute. A clock that goes back counts in the latest second.</summary>
    private void Advance(DateTimeOffset now)
    {
        var second = now.ToUnixTimeSeconds();
        if (second <= _current)
        {
            return;
        }

        for (var s = Math.Max(_current + 1, second - Seconds + 1); s <= second; s++)
        {
            _total -= _bytes[Slot(s)];
            _bytes[Slot(s)] = 0;
        }

        _current = second;
    }

    private static int Slot(long second) => (int)(((second % Seconds) + Seconds) % Seconds);
}
