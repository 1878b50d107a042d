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

    /// <summary>
    /// Pass <c>--no-sandbox</c>. Chromium's sandbox needs user namespaces that containers and root rarely have;
    /// isolation then comes from the container. Set false where the sandbox works.
    /// </summary>
    public bool DisableSandbox { get; set; } = true;

    /// <summary>How long identical <c>browser_extract</c> requests are served from the cluster-wide cache (0 = off).</summary>
    [Range(0, 86_400)]
    public int ExtractCacheSeconds { get; set; } = 300;

    /// <summary>How long an element action (click, type, …) waits for its target to be actionable.</summary>
    [Range(1, 600)]
    public int ElementTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// A plain-HTTP response larger than this is cut off by the egress proxy (refused unanswered when its
    /// Content-Length says so; else the connection is reset at the limit) and the action reports
    /// <c>browser_error: page exceeded Browser:MaxResponseBytes …</c>. Nothing is held whole in memory. Default 50 MB.
    /// </summary>
    [Range(1_024, 1L << 32)]
    public long MaxResponseBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>
    /// Bytes one session may receive from the network (every response, frame, popup, tunnel and WebSocket of its
    /// context, through the egress proxy) within any minute (a sliding window, by the second). Past it the session's
    /// connections are closed, new ones are refused for a minute, and the session's next action reports
    /// <c>browser_error: page exceeded Browser:MaxSessionBytesPerMinute …</c>: a hostile page degrades only its own
    /// session. At least <see cref="MaxResponseBytes"/>. Not enforced for a remote browser (<see cref="CdpEndpoint"/>),
    /// whose traffic does not pass this silo. Default 256 MB.
    /// </summary>
    [Range(1L << 20, 1L << 40)]
    public long MaxSessionBytesPerMinute { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Bytes all sessions of a silo may receive from the network within a minute, shared fairly: once the silo went
    /// past it, a session that received more than its share (this divided by the sessions open) is cut off as one past
    /// <see cref="MaxSessionBytesPerMinute"/> is, and its next action reports
    /// <c>browser_error: page exceeded its share of Browser:MaxSiloBytesPerMinute …</c>; sessions within their share
    /// keep going. At least <see cref="MaxSessionBytesPerMinute"/>. Default 1 GB.
    /// </summary>
    [Range(1L << 20, 1L << 42)]
    public long MaxSiloBytesPerMinute { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Tabs and popups one session may hold. A page opened past it (a popup loop) is closed at once; the agent keeps
    /// its current page.
    /// </summary>
    [Range(1, 100)]
    public int MaxPagesPerSession { get; set; } = 8;

    /// <summary>Total size of the files one <c>browser_file_upload</c> call may carry (decoded). Default 10 MB.</summary>
    [Range(1, 1L << 30)]
    public long MaxUploadBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>
    /// The largest file one download may be. A click or navigation that starts a download waits for it within the
    /// action's time; the finished file is held in the session's own temporary directory (never a path an agent names)
    /// and deleted when the session ends or moves. A larger one is deleted and the action reports
    /// <c>browser_error: download exceeds Browser:MaxDownloadBytes …</c>. Its bytes pass the egress proxy like any
    /// response, so they count in <see cref="MaxSessionBytesPerMinute"/> (a plain-HTTP download is also cut at
    /// <see cref="MaxResponseBytes"/>). At most <see cref="MaxSessionBytesPerMinute"/>, and at most 96 MB: a file crosses
    /// one grain call to reach the agent, and Orleans refuses messages past 100 MB. Default 50 MB.
    /// </summary>
    [Range(1, 96L * 1024 * 1024)]
    public long MaxDownloadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Run Chromium without a window.</summary>
    public bool Headless { get; set; } = true;

    /// <summary>When false, URLs resolving to loopback, private, link-local or metadata addresses are refused.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Host patterns (<c>example.com</c>, <c>*.example.com</c>) always allowed; allowed wins over the private-network block.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Host patterns always refused.</summary>
    public List<string> BlockedHosts { get; set; } = [];

    /// <summary>
    /// DNS servers the browser's egress resolves names with (<c>10.0.0.2</c>, <c>127.0.0.1:5353</c>, <c>[::1]:53</c>);
    /// empty = the system resolver. Either way answers are never cached past their TTL and a failed lookup is a refusal.
    /// </summary>
    public List<string> DnsServers { get; set; } = [];
}
