using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// What <c>browser_network_request</c> hides before a request's details reach an agent's context (and from there logs
/// and transcripts): every header and form field whose name looks like a credential. Broad on purpose: hiding a harmless
/// value costs the agent little, showing a token costs the site's user their account. A hidden value shows its length.
/// </summary>
public static partial class CredentialMasking
{
    /// <summary>Header names that carry credentials whatever their wording.</summary>
    private static readonly HashSet<string> CredentialHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token",
        "www-authenticate", "proxy-authenticate", "dpop",
    };

    /// <summary>A name containing any of these (case-insensitive) names a credential.</summary>
    private static readonly string[] CredentialWords =
    [
        "token", "secret", "key", "auth", "session", "sess", "csrf", "xsrf", "password", "passwd", "passphrase", "pwd", "pass",
        "credential", "signature", "cookie", "jwt", "bearer",
    ];

    /// <summary>Headers that contain a credential word but name none (<c>:authority</c> is the host).</summary>
    private static readonly HashSet<string> PlainHeaders = new(StringComparer.OrdinalIgnoreCase) { ":authority" };

    public static bool IsCredentialHeader(string name) =>
        CredentialHeaders.Contains(name) || (!PlainHeaders.Contains(name) && NamesCredential(name));

    /// <summary>Whether a form field, JSON member or query parameter of this name holds a credential.</summary>
    public static bool NamesCredential(string name)
    {
        foreach (var word in CredentialWords)
        {
            if (name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static string Hidden(string value) => $"(hidden, {value.Length} characters)";

    public static string MaskHeader(string name, string value) => IsCredentialHeader(name) ? Hidden(value) : value;

    /// <summary>
    /// A request body as shown, with credential-named fields hidden: <c>application/x-www-form-urlencoded</c>, JSON
    /// (every member at any depth, also in a body cut short), and <c>multipart/form-data</c> (file parts show only their
    /// size). Other bodies are returned as they are.
    /// </summary>
    public static string MaskBody(string body, string? contentType)
    {
        var type = contentType ?? "";
        if (type.Contains("x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return MaskUrlEncoded(body);
        }

        if (type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return MaskJson(body);
        }

        if (type.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return MaskMultipart(body, type);
        }

        return body;
    }

    /// <summary>
    /// A request URL as an agent may see it: no <c>user:password@</c> and no fragment, and the value of every
    /// credential-named query parameter hidden (<c>?page=2&amp;token=(hidden, 6 characters)</c>); other parameters stay,
    /// since they are often what the agent looks for. Not an absolute http(s) URL: up to its query, as traces show it.
    /// </summary>
    public static string MaskUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return Telemetry.AnchorTracing.SafeUrl(url);
        }

        var shown = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        var query = uri.GetComponents(UriComponents.Query, UriFormat.UriEscaped);
        return query.Length == 0 ? shown : $"{shown}?{MaskUrlEncoded(query)}";
    }

    public static string MaskUrlEncoded(string body) => string.Join('&', body.Split('&').Select(pair =>
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            return pair;
        }

        var name = WebUtility.UrlDecode(pair[..equals]);
        return NamesCredential(name) ? $"{pair[..equals]}={Hidden(WebUtility.UrlDecode(pair[(equals + 1)..]))}" : pair;
    }));

    public static string MaskJson(string body) => JsonMember().Replace(body, match =>
    {
        var name = match.Groups["name"].Value;
        var value = match.Groups["value"].Value;
        if (!NamesCredential(name))
        {
            return match.Value;
        }

        var shown = value.StartsWith('"') && value.EndsWith('"') && value.Length >= 2 ? value[1..^1] : value.TrimStart('"');
        return $"{match.Value[..(match.Groups["value"].Index - match.Index)]}\"{Hidden(shown)}\"";
    });

    public static string MaskMultipart(string body, string contentType)
    {
        var boundary = MultipartBoundary().Match(contentType) is { Success: true } m ? m.Groups["b"].Value.Trim('"') : null;
        if (string.IsNullOrEmpty(boundary))
        {
            return body;
        }

        var delimiter = "--" + boundary;
        var parts = body.Split(delimiter);
        var text = new StringBuilder(parts[0]);
        foreach (var part in parts.Skip(1))
        {
            text.Append(delimiter);
            var headerEnd = part.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var crlf and >= 0 ? (crlf, 4) : (part.IndexOf("\n\n", StringComparison.Ordinal), 2);
            if (headerEnd.Item1 < 0)
            {
                text.Append(part);
                continue;
            }

            var headers = part[..headerEnd.Item1];
            var content = part[(headerEnd.Item1 + headerEnd.Item2)..];
            var trailer = content.EndsWith("\r\n", StringComparison.Ordinal) ? "\r\n" : content.EndsWith('\n') ? "\n" : "";
            content = content[..^trailer.Length];
            var disposition = DispositionName().Match(headers);
            var name = disposition.Success ? disposition.Groups["name"].Value : "";
            var file = headers.Contains("filename=", StringComparison.OrdinalIgnoreCase);
            text.Append(headers).Append(part.AsSpan(headerEnd.Item1, headerEnd.Item2));
            text.Append(file ? $"(file of {Encoding.UTF8.GetByteCount(content)} bytes; not shown)" : NamesCredential(name) ? Hidden(content) : content);
            text.Append(trailer);
        }

        return text.ToString();
    }

    /// <summary>A JSON member <c>"name": value</c> whose value is a string (possibly cut off) or a scalar.</summary>
    [GeneratedRegex("""
        "(?<name>(?:[^"\\]|\\.)*)"\s*:\s*(?<value>"(?:[^"\\]|\\.)*(?:"|$)|-?[\w.+-]+)
        """, RegexOptions.CultureInvariant | RegexOptions.IgnorePatternWhitespace, matchTimeoutMilliseconds: 1000)]
    private static partial Regex JsonMember();

    [GeneratedRegex("""boundary=(?<b>"[^"]+"|[^;\s]+)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MultipartBoundary();

    [GeneratedRegex("""\bname="(?<name>[^"]*)"|\bname=(?<name>[^;\s]+)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex DispositionName();
}
