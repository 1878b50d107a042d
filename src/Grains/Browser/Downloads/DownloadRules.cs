using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Browser.Downloads;

/// <summary>
/// The pure rules of a session's downloads: the name shown for a file (never a path), its media type, whether it is
/// past <c>Browser:MaxDownloadBytes</c>, which held files give way to a new one, and how a result lists them.
/// </summary>
public static class DownloadRules
{
    /// <summary>Files one session holds at most; the oldest gives way to a new one.</summary>
    public const int MaxHeld = 20;

    /// <summary>Bytes one session holds at most, in downloads of <c>Browser:MaxDownloadBytes</c> each: this many of them.</summary>
    public const int MaxHeldDownloads = 4;

    /// <summary>Characters of a shown name at most.</summary>
    public const int MaxNameChars = 200;

    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".csv"] = "text/csv",
        [".txt"] = "text/plain",
        [".json"] = "application/json",
        [".xml"] = "application/xml",
        [".html"] = "text/html",
        [".htm"] = "text/html",
        [".pdf"] = "application/pdf",
        [".zip"] = "application/zip",
        [".gz"] = "application/gzip",
        [".xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [".xls"] = "application/vnd.ms-excel",
        [".docx"] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [".doc"] = "application/msword",
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>Whether a Playwright failure says the navigation turned into a download (it did not fail).</summary>
    public static bool IsDownloadStart(string message) => message.Contains("Download is starting", StringComparison.Ordinal);

    /// <summary>
    /// The file's name as the page suggested it, for showing only: its last segment, without control characters or
    /// separators, at most <see cref="MaxNameChars"/>; <c>download</c> when nothing is left.
    /// </summary>
    public static string NameOf(string? suggested)
    {
        var last = (suggested ?? "").Replace('\\', '/').Split('/')[^1];
        var clean = new StringBuilder(last.Length);
        foreach (var c in last.Where(c => !char.IsControl(c) && c is not (':' or '*' or '?' or '"' or '<' or '>' or '|')))
        {
            clean.Append(c);
        }

        var name = clean.ToString().Trim().Trim('.');
        name = name.Length > MaxNameChars ? name[..MaxNameChars] : name;
        return name.Length == 0 ? "download" : name;
    }

    /// <summary>The media type its name says, else <c>application/octet-stream</c>.</summary>
    public static string TypeOf(string name) =>
        Types.GetValueOrDefault(Path.GetExtension(name)) ?? "application/octet-stream";

    /// <summary>The refusal of a file of <paramref name="size"/> bytes past <paramref name="max"/>, or null when it fits.</summary>
    public static string? Refusal(string name, long size, long max) => size <= max
        ? null
        : $"browser_error: download exceeds Browser:MaxDownloadBytes ({Size(max)}): {name} is {size} bytes; it was deleted and is not held. The session continues.";

    /// <summary>
    /// How many of the oldest held files (<paramref name="held"/>, sizes oldest first) give way so that one of
    /// <paramref name="incoming"/> bytes fits: at most <see cref="MaxHeld"/> files and <paramref name="maxTotal"/> bytes in all.
    /// </summary>
    public static int ToEvict(IReadOnlyList<long> held, long incoming, long maxTotal)
    {
        var total = held.Sum() + incoming;
        var count = held.Count + 1;
        var evict = 0;
        while (evict < held.Count && (count > MaxHeld || total > maxTotal))
        {
            total -= held[evict];
            count--;
            evict++;
        }

        return evict;
    }

    /// <summary>
    /// An action's answer with <paramref name="downloads"/> listed: a JSON answer (<c>browser_run_task</c>,
    /// <c>browser_extract</c>) gains a <c>downloads</c> array and stays JSON; any other gains a <c>### Downloads</c> section.
    /// </summary>
    public static string Append(string text, IReadOnlyList<DownloadInfo> downloads)
    {
        if (text.StartsWith('{') && TryParseObject(text) is { } json)
        {
            json["downloads"] = new JsonArray([.. downloads.Select(d => new JsonObject
            {
                ["index"] = d.Index,
                ["name"] = d.Name,
                ["size"] = d.Size,
                ["type"] = d.Type,
            })]);
            return json.ToJsonString();
        }

        return text.TrimEnd('\n') + "\n\n" + Render(downloads);
    }

    private static JsonObject? TryParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The result's section listing <paramref name="downloads"/>.</summary>
    public static string Render(IReadOnlyList<DownloadInfo> downloads)
    {
        var text = new StringBuilder("### Downloads\n");
        foreach (var d in downloads)
        {
            text.Append(CultureInfo.InvariantCulture, $"- index {d.Index}: {d.Name} ({d.Size} bytes, {d.Type}); fetch it with browser_download {{ index: {d.Index} }}\n");
        }

        return text.ToString();
    }

    /// <summary>A byte count in words: <c>50 MB</c>, <c>512 KB</c>, <c>100 bytes</c>.</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KB",
        _ => $"{bytes} bytes",
    };
}
