using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Browser;

namespace Anchor.Orleans.Grains.Recording;

/// <summary>
/// Playwright trace zips: the trace files at the top (<c>trace.trace</c>: actions and DOM snapshots, <c>trace.network</c>,
/// <c>trace.stacks</c>) and what they refer to in folders (<c>screencast/</c> screenshots, <c>resources/</c> page resources
/// by content hash). Prepares one for storage (credentials out of its network log, capped to a size), and merges the
/// chunks a moved session left on several silos into one zip the viewer reads.
/// </summary>
public static class TraceZip
{
    private const string NetworkLog = ".network";

    /// <summary>
    /// The trace in <paramref name="open"/> as stored: credential headers (the egress proxy's <c>Proxy-Authorization</c>,
    /// cookies, authorization and other credential-named headers and parameters, as <see cref="CredentialMasking"/> words
    /// them) and cookie values hidden in its network log; whole when that fits in <paramref name="maxBytes"/>, otherwise
    /// the trace files alone, without screenshots and resources (the viewer still lists every action, its URL and its
    /// DOM, unstyled), or an empty zip when even that is too large. Truncated says which.
    /// </summary>
    public static (byte[] Zip, bool Truncated) Prepare(Func<Stream> open, long maxBytes)
    {
        var events = Rewrite([open], keep: name => !IsReferenced(name), mask: true);
        if (events.LongLength > maxBytes)
        {
            return (Rewrite([], _ => false, mask: false), true);
        }

        long referenced;
        using (var archive = new ZipArchive(open(), ZipArchiveMode.Read))
        {
            referenced = archive.Entries.Where(e => IsReferenced(e.FullName)).Sum(e => e.CompressedLength);
        }

        // Only packed when it may fit: a trace far over the cap is never held whole.
        var whole = events.LongLength + referenced <= maxBytes ? Rewrite([open], _ => true, mask: true) : null;
        return whole is not null && whole.LongLength <= maxBytes ? (whole, false) : (events, true);
    }

    /// <summary>As <see cref="Prepare"/>, for a trace in memory.</summary>
    public static (byte[] Zip, bool Truncated) Cap(byte[] zip, long maxBytes) => Prepare(() => new MemoryStream(zip), maxBytes);

    /// <summary>
    /// One zip of <paramref name="chunks"/> in order: the first chunk's trace files keep their names, the n-th's are named
    /// <c>chunk{n}-trace.*</c> (the viewer loads every <c>*.trace</c> with its <c>.network</c> and <c>.stacks</c> as one
    /// context); screenshots and resources keep their (unique, or content-hash) names. Chunks were prepared when stored.
    /// </summary>
    public static byte[] Merge(IReadOnlyList<byte[]> chunks) =>
        chunks.Count == 1 ? chunks[0] : Rewrite([.. chunks.Select(c => (Func<Stream>)(() => new MemoryStream(c)))], _ => true, mask: false);

    /// <summary>The names of a zip's entries.</summary>
    public static IReadOnlyList<string> EntryNames(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return [.. archive.Entries.Select(e => e.FullName)];
    }

    /// <summary>A screenshot or resource the trace files refer to (in a folder), as opposed to a trace file.</summary>
    private static bool IsReferenced(string entryName) => entryName.Contains('/', StringComparison.Ordinal);

    private static byte[] Rewrite(IReadOnlyList<Func<Stream>> chunks, Func<string, bool> keep, bool mask)
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
                    if (mask && entry.FullName.EndsWith(NetworkLog, StringComparison.Ordinal) && !IsReferenced(entry.FullName))
                    {
                        MaskNetworkLog(source, target);
                    }
                    else
                    {
                        source.CopyTo(target);
                    }
                }
            }
        }

        return output.ToArray();
    }

    /// <summary>
    /// Copies a network log (one JSON event a line, HAR entries inside) with its credentials hidden; a line that is not
    /// JSON is left out rather than copied unread.
    /// </summary>
    private static void MaskNetworkLog(Stream source, Stream target)
    {
        using var reader = new StreamReader(source, Encoding.UTF8);
        using var writer = new StreamWriter(target, new UTF8Encoding(false));
        while (reader.ReadLine() is { } line)
        {
            if (Parse(line) is { } node)
            {
                Mask(node, property: null);
                writer.Write(node.ToJsonString());
                writer.Write('\n');
            }
        }
    }

    private static JsonNode? Parse(string line)
    {
        try
        {
            return line.Length == 0 ? null : JsonNode.Parse(line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Hides the value of every credential-named <c>{ name, value }</c> pair (headers, query, form) and of every cookie.</summary>
    private static void Mask(JsonNode? node, string? property)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["name"] is JsonValue n && n.TryGetValue<string>(out var name) && o["value"] is JsonValue v && v.TryGetValue<string>(out var value))
                {
                    o["value"] = property == "cookies" ? CredentialMasking.Hidden(value) : CredentialMasking.MaskHeader(name, value);
                }

                foreach (var (key, child) in o.ToList())
                {
                    Mask(child, key);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Mask(child, property);
                }

                break;
        }
    }
}
