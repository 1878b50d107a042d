using System.Globalization;
using System.Text.Json;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Timeline;

/// <summary>
/// <see cref="ISessionTimeline"/> on Redis, shared by every silo. Per session, under one hash tag (one Redis Cluster
/// slot): a list of JSON entries and a small hash of totals (client, first and last time, entries ever written,
/// truncated, total cost in nano-USD, closed). An append is one Lua script (RPUSH, LTRIM to the bound counting what it
/// drops, the totals, EXPIRE both keys <see cref="TimelineOptions.TimelineHours"/> after this entry) pipelined with the
/// recent-sessions indexes (sorted sets scored by last activity, trimmed by age and size) in one round trip. Every wait
/// is bounded by <see cref="Wait"/> (and by the connection's own timeouts).
/// </summary>
public sealed class RedisSessionTimeline(RedisConnection redis, IOptions<ClusterOptions> cluster, IOptionsMonitor<TimelineOptions> options, TimeProvider time)
    : ISessionTimeline
{
    /// <summary>How long one timeline read or write may take before it gives up.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    /// <summary>Sessions an index keeps at most, whatever their age (the newest stay).</summary>
    public const int MaxIndexed = 100_000;

    // KEYS = entries, totals; ARGV = entry JSON, bound, ttl seconds, client, at (unix ms), cost (nano-USD), closed ('1', '0' or '').
    // Answers how many entries the bound dropped.
    private const string AppendScript = """
        local n = redis.call('RPUSH', KEYS[1], ARGV[1])
        local dropped = n - tonumber(ARGV[2])
        if dropped > 0 then
            redis.call('LTRIM', KEYS[1], dropped, -1)
            redis.call('HINCRBY', KEYS[2], 'truncated', dropped)
        else
            dropped = 0
        end
        redis.call('HSETNX', KEYS[2], 'client', ARGV[4])
        redis.call('HSETNX', KEYS[2], 'first', ARGV[5])
        local last = tonumber(redis.call('HGET', KEYS[2], 'last') or '0')
        if tonumber(ARGV[5]) > last then redis.call('HSET', KEYS[2], 'last', ARGV[5]) end
        redis.call('HINCRBY', KEYS[2], 'cost', ARGV[6])
        redis.call('HINCRBY', KEYS[2], 'written', 1)
        if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], 'closed', ARGV[7]) end
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        redis.call('EXPIRE', KEYS[2], ARGV[3])
        return dropped
        """;

    private const decimal NanosPerUsd = 1_000_000_000m;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task AppendAsync(string sessionId, TimelineEntry entry, CancellationToken cancellationToken = default)
    {
        var limits = options.CurrentValue;
        var now = time.GetUtcNow();
        var ttl = (long)TimeSpan.FromHours(limits.TimelineHours).TotalSeconds;
        var (entries, totals) = SessionKeys(sessionId);
        var db = (await redis.GetAsync().WaitAsync(Wait, time, cancellationToken)).GetDatabase();
        var batch = db.CreateBatch();
        var writes = new List<Task>
        {
            batch.ScriptEvaluateAsync(AppendScript, [entries, totals],
            [
                JsonSerializer.Serialize(entry, Json),
                limits.MaxEntriesPerSession,
                ttl,
                entry.ClientId,
                entry.At.ToUnixTimeMilliseconds(),
                (long)Math.Round(entry.CostUsd * NanosPerUsd),
                entry.ClosesSession switch { true => "1", false => "0", null => "" },
            ]),
        };
        var cutoff = (now - TimeSpan.FromHours(limits.TimelineHours)).ToUnixTimeMilliseconds();
        foreach (var index in new[] { IndexKey(null), IndexKey(entry.ClientId) })
        {
            writes.Add(batch.SortedSetAddAsync(index, sessionId, now.ToUnixTimeMilliseconds()));
            writes.Add(batch.SortedSetRemoveRangeByScoreAsync(index, double.NegativeInfinity, cutoff));
            writes.Add(batch.SortedSetRemoveRangeByRankAsync(index, 0, -MaxIndexed - 1));
            writes.Add(batch.KeyExpireAsync(index, TimeSpan.FromSeconds(ttl)));
        }

        batch.Execute(); // One round trip: the script and the index updates go out together.
        await Task.WhenAll(writes).WaitAsync(Wait, time, cancellationToken);
    }

    public async Task<SessionTimelineView?> ReadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var (entries, totals) = SessionKeys(sessionId);
        var db = (await redis.GetAsync().WaitAsync(Wait, time, cancellationToken)).GetDatabase();
        var read = db.CreateTransaction(); // Both keys share a slot: a consistent list and totals.
        var list = read.ListRangeAsync(entries);
        var head = read.HashGetAllAsync(totals);
        await read.ExecuteAsync().WaitAsync(Wait, time, cancellationToken);
        var fields = Fields(await head);
        if (fields.Count == 0)
        {
            return null;
        }

        var kept = (await list).Select(v => JsonSerializer.Deserialize<TimelineEntry>(v.ToString(), Json)!);
        return new SessionTimelineView(sessionId, Text(fields, "client"), TimelineOrder.Sorted(kept), (int)Number(fields, "truncated"), Number(fields, "cost") / NanosPerUsd);
    }

    public async Task<IReadOnlyList<TimelineSessionSummary>> RecentAsync(string? clientId, int limit, CancellationToken cancellationToken = default)
    {
        if (limit <= 0)
        {
            return [];
        }

        var cutoff = (time.GetUtcNow() - TimeSpan.FromHours(options.CurrentValue.TimelineHours)).ToUnixTimeMilliseconds();
        var db = (await redis.GetAsync().WaitAsync(Wait, time, cancellationToken)).GetDatabase();
        var ids = await db.SortedSetRangeByScoreAsync(IndexKey(clientId), cutoff, double.PositiveInfinity, Exclude.None, Order.Descending, 0, limit)
            .WaitAsync(Wait, time, cancellationToken);
        var batch = db.CreateBatch();
        var reads = ids.Select(id => (Id: id.ToString(), Totals: batch.HashGetAllAsync(SessionKeys(id.ToString()).Totals))).ToList();
        batch.Execute();
        await Task.WhenAll(reads.Select(r => r.Totals)).WaitAsync(Wait, time, cancellationToken);
        var recent = new List<TimelineSessionSummary>(reads.Count);
        foreach (var (id, totals) in reads)
        {
            var fields = Fields(await totals);
            if (fields.Count > 0)
            {
                // Expired since it was indexed: left out.
                recent.Add(new TimelineSessionSummary(
                    id,
                    Text(fields, "client"),
                    DateTimeOffset.FromUnixTimeMilliseconds((long)Number(fields, "first")),
                    DateTimeOffset.FromUnixTimeMilliseconds((long)Number(fields, "last")),
                    (int)(Number(fields, "written") - Number(fields, "truncated")),
                    Number(fields, "cost") / NanosPerUsd,
                    Text(fields, "closed") == "1"));
            }
        }

        return recent;
    }

    /// <summary>A session's entries list and totals hash; the braces make one Redis Cluster hash slot.</summary>
    public (RedisKey Entries, RedisKey Totals) SessionKeys(string sessionId)
    {
        var tag = $"anchor/{cluster.Value.ServiceId}/timeline/{sessionId}";
        return ($"{{{tag}}}:entries", $"{{{tag}}}:totals");
    }

    /// <summary>The recent-sessions index, of every client or of one.</summary>
    public RedisKey IndexKey(string? clientId) =>
        clientId is null ? $"anchor/{cluster.Value.ServiceId}/timeline-recent" : $"anchor/{cluster.Value.ServiceId}/timeline-recent/{clientId}";

    private static Dictionary<string, RedisValue> Fields(HashEntry[] entries) =>
        entries.ToDictionary(e => e.Name.ToString(), e => e.Value, StringComparer.Ordinal);

    private static string Text(Dictionary<string, RedisValue> fields, string name) =>
        fields.TryGetValue(name, out var value) ? value.ToString() : "";

    private static decimal Number(Dictionary<string, RedisValue> fields, string name) =>
        fields.TryGetValue(name, out var value) && decimal.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : 0m;
}
