using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Persistence;

/// <summary>
/// A grain's state as a head (<typeparamref name="THead"/>, kept small: totals) and entries keyed by string
/// (<typeparamref name="TEntry"/>, one per session, alert, …), persisted through <see cref="IEntryStateStore"/>.
/// The grain changes entries through <see cref="Set"/>/<see cref="Remove"/> (or <see cref="Changed"/> after editing
/// one in place); <see cref="WriteAsync"/> sends the head and only the entries changed since the last write.
/// Values use the Orleans serializer (version-tolerant by <c>[Id]</c>). Used from the grain's scheduler only.
/// </summary>
public sealed class EntryState<THead, TEntry>(IEntryStateStore store, Serializer serializer, string stateName)
    where THead : class, new()
    where TEntry : class
{
    private readonly Dictionary<string, TEntry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private GrainId _grainId;
    private string? _etag;
    private bool _clear;

    public THead Head { get; private set; } = new();

    public IReadOnlyDictionary<string, TEntry> Entries => _entries;

    /// <summary>Whether anything was ever written for this grain.</summary>
    public bool RecordExists => _etag is not null;

    /// <summary>Loads the stored head and every entry (once, at activation: O(entries) here, never per write).</summary>
    public async Task ReadAsync(GrainId grainId, CancellationToken cancellationToken = default)
    {
        _grainId = grainId;
        var stored = await store.ReadAsync(stateName, grainId, cancellationToken);
        _entries.Clear();
        _dirty.Clear();
        _clear = false;
        _etag = stored?.ETag;
        Head = stored is null ? new() : serializer.Deserialize<THead>(stored.Head) ?? new();
        foreach (var (key, value) in stored?.Entries ?? new Dictionary<string, byte[]>())
        {
            _entries[key] = serializer.Deserialize<TEntry>(value) ?? throw new InvalidOperationException($"Entry {key} of {stateName} is empty.");
        }
    }

    public void Set(string key, TEntry entry)
    {
        _entries[key] = entry;
        _dirty.Add(key);
    }

    public bool Remove(string key)
    {
        if (!_entries.Remove(key))
        {
            return false;
        }

        _dirty.Add(key);
        return true;
    }

    /// <summary>Marks an entry edited in place for the next write.</summary>
    public void Changed(string key) => _dirty.Add(key);

    /// <summary>Replaces the head and every entry (restore from backup): the next write drops what was stored.</summary>
    public void ReplaceAll(THead head, IEnumerable<KeyValuePair<string, TEntry>> entries)
    {
        Head = head;
        _entries.Clear();
        _dirty.Clear();
        _clear = true;
        foreach (var (key, entry) in entries)
        {
            Set(key, entry);
        }
    }

    /// <summary>
    /// Writes the head and the entries changed since the last write. What is written is captured before this returns,
    /// so changes made while the write is in flight go to the next one (as <see cref="GroupCommit"/> expects).
    /// </summary>
    public Task WriteAsync(CancellationToken cancellationToken = default)
    {
        var changes = new List<KeyValuePair<string, byte[]?>>(_dirty.Count);
        foreach (var key in _dirty)
        {
            changes.Add(new(key, _entries.TryGetValue(key, out var entry) ? serializer.SerializeToArray(entry) : null));
        }

        var write = new EntryStateWrite(serializer.SerializeToArray(Head), changes, _clear);
        _dirty.Clear();
        _clear = false;
        return WriteCoreAsync(write, cancellationToken);
    }

    private async Task WriteCoreAsync(EntryStateWrite write, CancellationToken cancellationToken)
    {
        try
        {
            _etag = await store.WriteAsync(stateName, _grainId, _etag, write, cancellationToken);
        }
        catch
        {
            // Not written (or not known to be): send these again with the next write. Memory holds the current values,
            // so re-sending is idempotent. A write that did land leaves the etag stale, and the next one is refused
            // (InconsistentStateException): the grain must then deactivate and reload.
            _clear |= write.ClearEntries;
            foreach (var (key, _) in write.Changes)
            {
                _dirty.Add(key);
            }

            throw;
        }
    }
}
