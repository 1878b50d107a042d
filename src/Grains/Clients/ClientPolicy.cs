using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.RateLimiting;
using Anchor.Orleans.Grains.Sessions;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Clients;

/// <summary>The effective limits of one client: its overrides over the global settings.</summary>
public sealed record ClientPolicy(
    string ClientId,
    int MaxRequests,
    int WindowSeconds,
    decimal DailyLimitUsd,
    decimal MonthlyLimitUsd,
    int MaxSessions,
    IReadOnlyList<string> ToolAllow,
    IReadOnlyList<string> ToolDeny,
    IReadOnlyList<string> AllowedHosts)
{
    /// <summary>
    /// Tools that are off unless a client's <c>Tools:Allow</c> names them (by name or by this very pattern): running
    /// the agent's own script in a page, and pointing the mouse at coordinates. A wildcard such as <c>*</c> or
    /// <c>browser_*</c> does not turn them on, and naming them does not restrict the client's other tools.
    /// </summary>
    public static readonly IReadOnlyList<string> OptInTools = ["browser_evaluate", "browser_mouse_*"];

    /// <summary>Whether the client may see and call <paramref name="tool"/>: deny wins, an allow list restricts, opt-in tools need naming.</summary>
    public bool AllowsTool(string tool)
    {
        if (ToolDeny.Any(p => Matches(p, tool)))
        {
            return false;
        }

        if (IsOptIn(tool))
        {
            return ToolAllow.Any(p => IsOptIn(p) && Matches(p, tool));
        }

        var restricting = ToolAllow.Where(p => !IsOptIn(p)).ToList();
        return restricting.Count == 0 || restricting.Any(p => Matches(p, tool));
    }

    private static bool IsOptIn(string toolOrPattern) => OptInTools.Any(o => Matches(o, toolOrPattern));

    private static bool Matches(string pattern, string tool) =>
        pattern.EndsWith('*')
            ? tool.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : string.Equals(pattern, tool, StringComparison.Ordinal);
}

/// <summary>Resolves <see cref="ClientPolicy"/> from configuration; follows reloads.</summary>
public sealed class ClientPolicies(
    IOptionsMonitor<ClientPolicyOptions> clients,
    IOptionsMonitor<RateLimitOptions> rateLimit,
    IOptionsMonitor<BudgetOptions> budget,
    IOptionsMonitor<SessionsOptions> sessions,
    IOptionsMonitor<BrowserOptions> browser)
{
    public ClientPolicy For(string clientId)
    {
        // Named options: Anchor:Clients:<clientId> binds to the options named after the client.
        var o = clients.Get(clientId);
        return new ClientPolicy(
            clientId,
            o.RateLimit.MaxRequests ?? rateLimit.CurrentValue.MaxRequests,
            rateLimit.CurrentValue.WindowSeconds,
            o.Budget.DailyLimitUsd ?? budget.CurrentValue.DailyLimitUsd,
            o.Budget.MonthlyLimitUsd ?? budget.CurrentValue.MonthlyLimitUsd,
            o.Sessions.MaxPerClient ?? sessions.CurrentValue.MaxPerClient,
            o.Tools.Allow,
            o.Tools.Deny,
            [.. browser.CurrentValue.AllowedHosts, .. o.Browser.AllowedHosts]);
    }
}
