namespace Anchor.Orleans.Grains.Clients;

/// <summary>
/// Per-client overrides (<c>Anchor:Clients:&lt;clientId&gt;</c>). Anything unset falls back to the global section.
/// </summary>
public sealed class ClientPolicyOptions
{
    public const string SectionName = "Clients";

    public RateLimitOverride RateLimit { get; set; } = new();

    public BudgetOverride Budget { get; set; } = new();

    public SessionsOverride Sessions { get; set; } = new();

    public ToolsPolicy Tools { get; set; } = new();

    public BrowserOverride Browser { get; set; } = new();

    /// <summary><c>off</c> (the default) or <c>trace</c>: a Playwright trace of each session (checked at start-up by <see cref="Recording.RecordingOptionsValidator"/>).</summary>
    public string Recording { get; set; } = "off";

    public sealed class RateLimitOverride
    {
        public int? MaxRequests { get; set; }
    }

    public sealed class BudgetOverride
    {
        public decimal? DailyLimitUsd { get; set; }

        public decimal? MonthlyLimitUsd { get; set; }
    }

    public sealed class SessionsOverride
    {
        public int? MaxPerClient { get; set; }
    }

    /// <summary>Tool names or <c>prefix*</c> patterns. With an allow list only those tools exist for the client; deny wins.</summary>
    public sealed class ToolsPolicy
    {
        public List<string> Allow { get; set; } = [];

        public List<string> Deny { get; set; } = [];
    }

    public sealed class BrowserOverride
    {
        public List<string> AllowedHosts { get; set; } = [];
    }
}
