using System.Text;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// An HTTP/1.x message head: its first line, its headers, the bytes read past it (<see cref="Rest"/>) and how many
/// bytes were read from the stream for it (<see cref="Length"/>, for counting).
/// </summary>
internal sealed record EgressHead(string FirstLine, IReadOnlyList<(string Name, string Value)> Headers, byte[] Rest, int Length)
{
    /// <summary>The head again, with only the headers <paramref name="keep"/> accepts and <paramref name="extra"/> (whole lines) added.</summary>
    public string Serialize(Func<string, bool> keep, string extra)
    {
        var text = new StringBuilder().Append(FirstLine).Append("\r\n");
        foreach (var (name, value) in Headers.Where(h => keep(h.Name)))
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        return text.Append(extra).Append("\r\n").ToString();
    }

    /// <summary>Reads, after <paramref name="prefix"/>, up to the blank line ending the head; null when the stream ended first, the head is too large or malformed.</summary>
    public static async Task<EgressHead?> ReadAsync(Stream stream, byte[] prefix, CancellationToken cancellationToken)
    {
        var buffer = new byte[EgressProxy.MaxHeadBytes];
        if (prefix.Length > buffer.Length)
        {
            return null;
        }

        prefix.CopyTo(buffer, 0);
        var length = prefix.Length;
        var fresh = 0;
        int end;
        while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length)
            {
                return null;
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            length += read;
            fresh += read;
        }

        var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
        var headers = new List<(string, string)>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return null;
            }

            headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        return new EgressHead(lines[0], headers, buffer.AsSpan(end + 4, length - end - 4).ToArray(), fresh);
    }

    /// <summary>The one Content-Length of a head (0 when it has none); false when it has several that differ, or a bad one.</summary>
    public static bool TryContentLength(IReadOnlyList<(string Name, string Value)> headers, out long length)
    {
        length = 0;
        string? seen = null;
        foreach (var (_, value) in headers.Where(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
        {
            if (seen is not null && seen != value || !long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length))
            {
                return false;
            }

            seen = value;
        }

        return true;
    }
}

/// <summary>A request's line and headers, and whatever the client sent after them.</summary>
internal sealed record EgressRequest(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers, byte[] Rest)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Reads up to the blank line ending the headers; null when the client closed first or sent something else.</summary>
    public static async Task<EgressRequest?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (await EgressHead.ReadAsync(stream, [], cancellationToken) is not { } head)
        {
            return null;
        }

        var first = head.FirstLine.Split(' ');
        return first.Length == 3 && first[2].StartsWith("HTTP/1.", StringComparison.Ordinal)
            ? new EgressRequest(first[0], first[1], first[2], head.Headers, head.Rest)
            : null;
    }
}
