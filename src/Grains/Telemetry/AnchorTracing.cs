using System.Diagnostics;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Configuration;

namespace Anchor.Orleans.Grains.Telemetry;

/// <summary>
/// The service's spans (source <c>Anchor.Orleans</c>): one per tool call, with children for admission and each
/// browser action; Orleans adds the grain-call spans between them. Attributes never carry secrets, and URLs
/// lose their credentials, query string and fragment.
/// </summary>
public static partial class AnchorTracing
{
    public const string SourceName = "Anchor.Orleans";

    /// <summary>What stands where a URL's <c>user:password</c> was.</summary>
    public const string CredentialsMask = "[REDACTED]";

    public static readonly ActivitySource Source = new(SourceName, typeof(AnchorTracing).Assembly.GetName().Version?.ToString());

    /// <summary>The OTLP endpoint traces and metrics are exported to (<c>Anchor:Telemetry:OtlpEndpoint</c>); null or empty when none.</summary>
    public static string? OtlpEndpoint(IConfiguration configuration) =>
        configuration[$"{OptionsRegistration.Root}:Telemetry:OtlpEndpoint"];

    /// <summary><c>https://host/path</c> without credentials, query or fragment, which may carry tokens.</summary>
    public static string SafeUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
            : WithoutCredentials(url.Split('?', '#')[0]);

    /// <summary>
    /// <paramref name="text"/> with the <c>user:password@</c> of every URL in it masked (<c>scheme://[REDACTED]@host</c>),
    /// whether or not the URL parses: for messages that must name the URL an agent gave, such as <c>url_blocked</c>.
    /// </summary>
    public static string WithoutCredentials(string text) =>
        text.Contains("://", StringComparison.Ordinal) && text.Contains('@', StringComparison.Ordinal)
            ? UrlCredentials().Replace(text, "${scheme}" + CredentialsMask + "@")
            : text;

    // A scheme, then userinfo up to the first '@' before the host ends (no '/', '?', '#' or whitespace in between).
    [GeneratedRegex(@"(?<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s@]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlCredentials();
}
