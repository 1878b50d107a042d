using System.Globalization;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Persistence;

/// <summary>
/// <see cref="IEntryStateStore"/> on Redis: per grain state a head hash (<c>etag</c>, <c>data</c>) and an entries
/// hash (one field per entry), both under one hash tag so they live in one slot. A write is one <c>MULTI</c>/<c>EXEC</c>
/// guarded by <c>WATCH</c> on the etag: <c>HSET</c> of the head, <c>HSET</c>/<c>HDEL</c> of only the changed fields —
/// O(change), whatever the number of entries. It is acknowledged only after Redis has executed it, as Orleans' Redis
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

        var tx = db.CreateTransaction();
        tx.AddCondition(etag is null ? Condition.HashNotExists(head, ETagField) : Condition.HashEqual(head, ETagField, etag));
        var pending = new List<Task>(4)
        {
            tx.HashSetAsync(head, [new HashEntry(ETagField, nextETag), new HashEntry(DataField, write.Head)]),
        };
        if (write.ClearEntries)
        {
            pending.Add(tx.KeyDeleteAsync(entries));
        }

        var sets = write.Changes.Where(c => c.Value is not null).Select(c => new HashEntry(c.Key, c.Value)).ToArray();
        if (sets.Length > 0)
        {
            pending.Add(tx.HashSetAsync(entries, sets));
        }

        var removals = write.Changes.Where(c => c.Value is null).Select(c => (RedisValue)c.Key).ToArray();
        if (removals.Length > 0)
        {
            pending.Add(tx.HashDeleteAsync(entries, removals));
        }

        if (!await tx.ExecuteAsync())
        {
            throw new InconsistentStateException($"Entry state {head} was changed by another writer.", "", etag ?? "");
        }

        await Task.WhenAll(pending);
        return nextETag;
    }

    /// <summary>The head and entries keys of one grain's state; the braces make one Redis Cluster hash slot.</summary>
    public (RedisKey Head, RedisKey Entries) Keys(string stateName, GrainId grainId)
    {
        var tag = $"anchor/{cluster.Value.ServiceId}/{stateName}/{grainId}";
        return ($"{{{tag}}}:head", $"{{{tag}}}:entries");
    }
}
