using Anchor.Orleans.Grains.Browser;

namespace Anchor.Orleans.Testing;

/// <summary>Chromium for raw Playwright beside the service (benchmark floors, browser-only tests).</summary>
public static class RawChromium
{
    /// <summary>
    /// The service's own switches but the resolver rule: without the egress proxy in front of it, this Chromium
    /// resolves the fixture's name itself.
    /// </summary>
    public static IReadOnlyList<string> ServiceSwitches { get; } =
        [.. BrowserEngine.LaunchFlags(disableSandbox: true).Where(f => !f.StartsWith("--host-resolver-rules", StringComparison.Ordinal))];
}
