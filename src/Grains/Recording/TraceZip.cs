using System.IO.Compression;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Playwright trace zips: the trace files at the top (<c>trace.trace</c>: actions and DOM snapshots, <c>trace.network</c>,
/// <c>trace.stacks</c>) and what they refer to in folders (<c>screencast/</c> screenshots, <c>resources/</c> page resources
/// by content hash).
/// Caps one to a size, and merges the chunks a moved session left on several silos into one zip the viewer reads.
/// </summary>
public static class TraceZip
{
    /// <summary>
    /// <paramref name="zip"/> when it fits in <paramref name="maxBytes"/>; otherwise the trace files alone, without the
    /// screenshots and resources (the viewer still lists every action, its URL and its DOM, unstyled), or an empty zip when
    /// even that is too large. Truncated says which.
    /// </summary>
    public static (byte[] Zip, bool Truncated) Cap(byte[] zip, long maxBytes) =>
        zip.LongLength <= maxBytes ? (zip, false) : Truncate(() => new MemoryStream(zip), maxBytes);

    /// <summary>As <see cref="Cap(byte[], long)"/> for the zip file at <paramref name="path"/>, read whole only when it fits.</summary>
    public static async Task<(byte[] Zip, bool Truncated)> CapFileAsync(string path, long maxBytes, CancellationToken cancellationToken) =>
        new FileInfo(path).Length <= maxBytes
            ? (await File.ReadAllBytesAsync(path, cancellationToken), false)
            : Truncate(() => File.OpenRead(path), maxBytes);

    private static (byte[] Zip, bool Truncated) Truncate(Func<Stream> open, long maxBytes)
    {
        var events = Rewrite([open], keep: name => !IsReferenced(name));
        return (events.LongLength <= maxBytes ? events : Rewrite([], _ => false), true);
    }

    /// <summary>
    /// One zip of <paramref name="chunks"/> in order: the first chunk's trace files keep their names, the n-th's are named
    /// <c>chunk{n}-trace.*</c> (the viewer loads every <c>*.trace</c> with its <c>.network</c> and <c>.stacks</c> as one
    /// context); screenshots and resources keep their (unique, or content-hash) names.
    /// </summary>
    public static byte[] Merge(IReadOnlyList<byte[]> chunks) =>
        chunks.Count == 1 ? chunks[0] : Rewrite([.. chunks.Select(c => (Func<Stream>)(() => new MemoryStream(c)))], _ => true);

    /// <summary>The names of a zip's entries.</summary>
    public static IReadOnlyList<string> EntryNames(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return [.. archive.Entries.Select(e => e.FullName)];
    }

    /// <summary>A screenshot or resource the trace files refer to (in a folder), as opposed to a trace file.</summary>
    private static bool IsReferenced(string entryName) => entryName.Contains('/', StringComparison.Ordinal);

    private static byte[] Rewrite(IReadOnlyList<Func<Stream>> chunks, Func<string, bool> keep)
    {
        using var output = new MemoryStream();
        using (var merged = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var written = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < chunks.Count; i++)
            {
                using var archive = new ZipArchive(chunks[i](), ZipArchiveMode.Read);
                foreach (var entry in archive.Entries.Where(e => keep(e.FullName)))
                {
                    var name = IsReferenced(entry.FullName) || i == 0 ? entry.FullName : $"chunk{i}-{entry.FullName}";
                    if (!written.Add(name))
                    {
                        continue; // A resource both chunks hold: the same content under the same hash.
                    }

                    using var source = entry.Open();
                    using var target = merged.CreateEntry(name, CompressionLevel.Fastest).Open();
                    source.CopyTo(target);
                }
            }
        }

        return output.ToArray();
    }
}
