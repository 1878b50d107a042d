using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Traces in Redis (Storage:Provider Redis), readable from every silo: one list per session
/// (<c>anchor/{ServiceId}/recording/{sessionId}</c>), one element per chunk, expiring <c>Console:TimelineHours</c>
/// after the last chunk. Every call waits at most <see cref="Limit"/>.
/// </summary>
public sealed class RedisSessionRecordings(
    RedisConnection redis, IOptions<AnchorHostingOptions> hosting, IOptionsMonitor<TimelineOptions> timeline, TimeProvider time) : ISessionTraceStore
{
    /// <summary>How long one read or write may wait on Redis.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private const byte Format = 1;

    public async Task SaveAsync(SessionTrace chunk, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken);
        var key = Key(chunk.SessionId);
        var transaction = db.CreateTransaction();
        _ = transaction.ListRightPushAsync(key, Encode(chunk));
        _ = transaction.KeyExpireAsync(key, TimeSpan.FromHours(timeline.CurrentValue.TimelineHours));
        await transaction.ExecuteAsync().WaitAsync(Limit, time, cancellationToken);
    }

    public async Task<SessionTrace?> ReadTraceAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync(cancellationToken);
        var values = await db.ListRangeAsync(Key(sessionId)).WaitAsync(Limit, time, cancellationToken);
        return TraceChunks.Merged(sessionId, [.. values.Select(v => Decode(sessionId, v!))]);
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        (await redis.GetAsync().WaitAsync(Limit, time, cancellationToken)).GetDatabase();

    private RedisKey Key(string sessionId) => $"anchor/{hosting.Value.Cluster.ServiceId}/recording/{sessionId}";

    private static byte[] Encode(SessionTrace chunk)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Format);
            writer.Write(chunk.Truncated);
            writer.Write(chunk.RecordedAt.ToUnixTimeMilliseconds());
            writer.Write(chunk.ClientId);
            writer.Write(chunk.Zip.Length);
            writer.Write(chunk.Zip);
        }

        return stream.ToArray();
    }

    private static SessionTrace Decode(string sessionId, byte[] value)
    {
        using var reader = new BinaryReader(new MemoryStream(value));
        if (reader.ReadByte() != Format)
        {
            throw new InvalidDataException($"The trace of session {sessionId} is stored in an unknown format.");
        }

        var truncated = reader.ReadBoolean();
        var recordedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        var clientId = reader.ReadString();
        var zip = reader.ReadBytes(reader.ReadInt32());
        return new SessionTrace(sessionId, clientId, zip, truncated, recordedAt);
    }
}
