using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>Checks the browser endpoint and host patterns are usable.</summary>
public sealed class BrowserOptionsValidator : IValidateOptions<BrowserOptions>
{
    public ValidateOptionsResult Validate(string? name, BrowserOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.CdpEndpoint)
            && (!Uri.TryCreate(options.CdpEndpoint, UriKind.Absolute, out var cdp) || cdp.Scheme is not ("ws" or "wss" or "http" or "https")))
        {
            failures.Add("Anchor:Browser:CdpEndpoint must be an absolute ws://, wss://, http:// or https:// URL.");
        }

        foreach (var (key, patterns) in new[] { ("AllowedHosts", options.AllowedHosts), ("BlockedHosts", options.BlockedHosts) })
        {
            foreach (var pattern in patterns.Where(p => string.IsNullOrWhiteSpace(p) || p.Contains('/') || p.Contains(':') && !p.StartsWith('[')))
            {
                failures.Add($"Anchor:Browser:{key} holds '{pattern}': a pattern is a host name such as example.com or *.example.com.");
            }
        }

        foreach (var server in options.DnsServers.Where(s => Egress.EgressResolver.ParseServer(s) is null))
        {
            failures.Add($"Anchor:Browser:DnsServers holds '{server}': a server is an IP address with an optional port, such as 10.0.0.2 or 127.0.0.1:5353.");
        }

        if (options.MaxSessionBytesPerMinute < options.MaxResponseBytes)
        {
            failures.Add($"Anchor:Browser:MaxSessionBytesPerMinute ({options.MaxSessionBytesPerMinute}) must be at least Anchor:Browser:MaxResponseBytes ({options.MaxResponseBytes}): a response that Browser:MaxResponseBytes allows must fit in a session's budget.");
        }

        if (options.MaxSiloBytesPerMinute < options.MaxSessionBytesPerMinute)
        {
            failures.Add($"Anchor:Browser:MaxSiloBytesPerMinute ({options.MaxSiloBytesPerMinute}) must be at least Anchor:Browser:MaxSessionBytesPerMinute ({options.MaxSessionBytesPerMinute}): one session alone may use its whole budget.");
        }

        if (options.MaxDownloadBytes > options.MaxSessionBytesPerMinute)
        {
            failures.Add($"Anchor:Browser:MaxDownloadBytes ({options.MaxDownloadBytes}) must be at most Anchor:Browser:MaxSessionBytesPerMinute ({options.MaxSessionBytesPerMinute}): a download's bytes count in the session's budget.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
