using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Tests.Browser;

/// <summary>The URL policy and its resolver over fixed options, as a silo builds them.</summary>
internal static class EgressTestParts
{
    public static UrlPolicy Policy(BrowserOptions options) => new(new FixedOptions(options), new EgressResolver(Microsoft.Extensions.Options.Options.Create(options)));

    /// <summary>Options pointed at <paramref name="dns"/> (or no server at all), with extra settings applied.</summary>
    public static BrowserOptions Options(TestDnsServer? dns, Action<BrowserOptions>? configure = null)
    {
        var options = new BrowserOptions { DnsServers = dns is null ? [] : [dns.Endpoint] };
        configure?.Invoke(options);
        return options;
    }

    internal sealed class FixedOptions(BrowserOptions value) : IOptionsMonitor<BrowserOptions>
    {
        public BrowserOptions CurrentValue => value;

        public BrowserOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<BrowserOptions, string?> listener) => null;
    }
}
