using System.Diagnostics;

namespace Anchor.Orleans.Grains.Telemetry;

/// <summary>
/// The service's spans (source <c>Anchor.Orleans</c>): one per tool call, with children for admission and each
/// browser action; Orleans adds the grain-call spans between them. Attributes never carry secrets, and URLs
/// lose their query string and fragment.
/// </summary>
public static class AnchorTracing
{
    public const string SourceName = "Anchor.Orleans";

    public static readonly ActivitySource Source = new(SourceName, typeof(AnchorTracing).Assembly.GetName().Version?.ToString());

    /// <summary><c>https://host/path</c> without query or fragment, which may carry tokens.</summary>
    public static string SafeUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.GetLeftPart(UriPartial.Path)
            : url.Split('?', '#')[0];
}
