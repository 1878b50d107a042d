using System.Globalization;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Persistence;

/// <summary>
/// <see cref="IEntryStateStore"/> on Redis: per grain state a head hash (<c>etag</c>, <c>data</c>) and an entries
/// hash (one field per entry), both under one hash tag so they live in one slot. A write is one Lua script (atomic,
/// one round trip, as Orleans' own Redis storage does it) that checks the etag, then <c>HSET</c>s the head and
/// <c>HSET</c>/<c>HDEL</c>s only the changed fields — O(change), whatever the number of entries. It is acknowledged only after Redis has executed it, as Orleans' Redis
/// grain storage is, so durability is the server's (<c>appendonly</c>). Waits are bounded by the connection's
/// <c>asyncTimeout</c>.
/// </summary>
/// <remarks>
/// Chosen over Orleans' journaled grains (log-consistency providers store the whole log or a whole snapshot per
/// write) and over splitting state across several <c>IPersistentState</c> (still O(bucket) per write): a hash field
/// per entry in the same transaction as the totals is the smallest write that keeps totals and records consistent.
/// </remarks>
public sealed class RedisEntryStateStore(RedisConnection redis, IOptions<ClusterOptions> cluster) : IEntryStateStore
{
    // One round trip, atomic like MULTI/EXEC (a script runs alone), with the etag checked inside: KEYS = head,
    // entries; ARGV = expected etag ('' = none), new etag, head, clear (1/0), n sets, n field/value pairs, removals.
    // Fields go to HSET/HDEL in chunks, below Lua's limit on unpacked arguments (a restore may carry 100,000).
    private const string WriteScript = """
        local current = redis.call('HGET', KEYS[1], 'etag')
        if (current or '') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'etag', ARGV[2], 'data', ARGV[3])
        if ARGV[4] == '1' then redis.call('DEL', KEYS[2]) end
        local sets = tonumber(ARGV[5])
        local first, last = 6, 5 + 2 * sets
        for i = first, last, 1000 do
            redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, last)))
        end
        for i = last + 1, #ARGV, 1000 do
            redis.call('HDEL', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
        end
        return 1
        """;

    private static readonly RedisValue ETagField = "etag";
    private static readonly RedisValue DataField = "data";

    public async Task<StoredEntryState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default)
    {
        var (head, entries) = Keys(stateName, grainId);
        var db = (await redis.GetAsync()).GetDatabase();
        // Read both hashes in one transaction: a consistent head and entries.
        var read = db.CreateTransaction();
        var headRead = read.HashGetAllAsync(head);
        var entriesRead = read.HashGetAllAsync(entries);
        await read.ExecuteAsync();
        var headFields = (await headRead).ToDictionary(e => e.Name.ToString(), e => e.Value, StringComparer.Ordinal);
        if (!headFields.TryGetValue(ETagField!, out var etag))
        {
            return null;
        }

        return new StoredEntryState(
            etag.ToString(),
            (byte[])headFields[DataField!]!,
            (await entriesRead).ToDictionary(e => e.Name.ToString(), e => (byte[])e.Value!, StringComparer.Ordinal));
    }

    public async Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, EntryStateWrite write, CancellationToken cancellationToken = default)
    {
        var (head, entries) = Keys(stateName, grainId);
        var db = (await redis.GetAsync()).GetDatabase();
        var next = etag is null ? 1 : long.Parse(etag, CultureInfo.InvariantCulture) + 1;
        var nextETag = next.ToString(CultureInfo.InvariantCulture);

        var sets = write.Changes.Where(c => c.Value is not null).ToList();
        var args = new List<RedisValue>(5 + write.Changes.Count + sets.Count)
        {
            etag ?? "",
            nextETag,
            write.Head,
            write.ClearEntries ? 1 : 0,
            sets.Count,
        };
        foreach (var (field, value) in sets)
        {
            args.Add(field);
            args.Add(value);
        }

        args.AddRange(write.Changes.Where(c => c.Value is null).Select(c => (RedisValue)c.Key));
        var result = (long)await db.ScriptEvaluateAsync(WriteScript, [head, entries], [.. args]);
        if (result != 1)
        {
            throw new InconsistentStateException($"Entry state {head} was changed by another writer.", "", etag ?? "");
        }

        return nextETag;
    }

    /// <summary>The head and entries keys of one grain's state; the braces make one Redis Cluster hash slot.</summary>
    public (RedisKey Head, RedisKey Entries) Keys(string stateName, GrainId grainId)
    {
        var tag = $"anchor/{cluster.Value.ServiceId}/{stateName}/{grainId}";
        return ($"{{{tag}}}:head", $"{{{tag}}}:entries");
    }
}
