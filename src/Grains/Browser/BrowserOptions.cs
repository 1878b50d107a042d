using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>The browser this silo drives and where it may go (<c>Anchor:Browser</c>).</summary>
public sealed class BrowserOptions
{
    public const string SectionName = "Browser";

    /// <summary>Chromium to launch with Playwright (ignored when <see cref="CdpEndpoint"/> is set).</summary>
    [Required(AllowEmptyStrings = false)]
    public string ExecutablePath { get; set; } = "/usr/bin/chromium";

    /// <summary>When set, connect to a remote browser over CDP (a cloud browser provider) instead of launching one.</summary>
    public string CdpEndpoint { get; set; } = "";

    /// <summary>Run Chromium without a window.</summary>
    public bool Headless { get; set; } = true;

    /// <summary>When false, URLs resolving to loopback, private, link-local or metadata addresses are refused.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Host patterns (<c>example.com</c>, <c>*.example.com</c>) always allowed; allowed wins over the private-network block.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Host patterns always refused.</summary>
    public List<string> BlockedHosts { get; set; } = [];
}
