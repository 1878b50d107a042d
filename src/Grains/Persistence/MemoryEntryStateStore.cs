using Orleans.Storage;
namespace Anchor.Orleans.Grains.Persistence;

/// <summary>
/// <see cref="IEntryStateStore"/> in this process's memory: the embedded single-silo mode (which keeps grain state in
/// memory too) and the grain test cluster. State outlives activations, not the process.
/// </summary>
public sealed class MemoryEntryStateStore : IEntryStateStore
{
    private readonly Dictionary<string, Record> _records = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<StoredEntryState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_records.TryGetValue(Key(stateName, grainId), out var record)
                ? new StoredEntryState(record.ETag.ToString(System.Globalization.CultureInfo.InvariantCulture), record.Head, new Dictionary<string, byte[]>(record.Entries, StringComparer.Ordinal))
                : null);
        }
    }

    public Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, EntryStateWrite write, CancellationToken cancellationToken = default)
    {
        var key = Key(stateName, grainId);
        lock (_lock)
        {
            _records.TryGetValue(key, out var record);
            var stored = record?.ETag.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!string.Equals(stored, etag, StringComparison.Ordinal))
            {
                throw new InconsistentStateException($"Entry state {key} was changed by another writer.", stored ?? "", etag ?? "");
            }

            record ??= new Record();
            if (write.ClearEntries)
            {
                record.Entries.Clear();
            }

            foreach (var (field, value) in write.Changes)
            {
                if (value is null)
                {
                    record.Entries.Remove(field);
                }
                else
                {
                    record.Entries[field] = value;
                }
            }

            record.Head = write.Head;
            record.ETag++;
            _records[key] = record;
            return Task.FromResult(record.ETag.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";

    private sealed class Record
    {
        public long ETag { get; set; }

        public byte[] Head { get; set; } = [];

        public Dictionary<string, byte[]> Entries { get; } = new(StringComparer.Ordinal);
    }
}
