namespace Anchor.Orleans.Grains.Persistence;

/// <summary>
/// Storage for grain state that is a small head (totals) plus many independent entries (per-session records), so a
/// write costs O(what changed): the new head and the changed entries go out together, atomically, guarded by an
/// etag like Orleans' own grain storage. Redis in a cluster (<see cref="RedisEntryStateStore"/>), memory in the
/// embedded single-silo mode and in grain tests (<see cref="MemoryEntryStateStore"/>).
/// </summary>
public interface IEntryStateStore
{
    /// <summary>The stored record, or null when nothing was ever written.</summary>
    Task<StoredEntryState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the head and the changed entries (null value = remove) in one transaction, after removing every entry
    /// when <see cref="EntryStateWrite.ClearEntries"/>. Fails with <c>InconsistentStateException</c> when the
    /// stored etag is not <paramref name="etag"/> (null = nothing stored). Returns the new etag.
    /// </summary>
    Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, EntryStateWrite write, CancellationToken cancellationToken = default);
}

/// <summary>A stored head and its entries.</summary>
public sealed record StoredEntryState(string ETag, byte[] Head, IReadOnlyDictionary<string, byte[]> Entries);

/// <summary>One atomic change: the new head, the changed entries (null = removed), and whether to drop all others first.</summary>
public sealed record EntryStateWrite(byte[] Head, IReadOnlyList<KeyValuePair<string, byte[]?>> Changes, bool ClearEntries)
{
    /// <summary>Bytes sent for values (head and entries), the measure of a write's cost.</summary>
    public int ValueBytes => Head.Length + Changes.Sum(c => c.Value?.Length ?? 0);
}
