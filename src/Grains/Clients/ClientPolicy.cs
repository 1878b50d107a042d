using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.RateLimiting;
using Anchor.Orleans.Grains.Recording;
using Anchor.Orleans.Grains.Sessions;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Clients;

/// <summary>
/// The effective limits of one client: its overrides over the global settings. Which tools it may call is decided by
/// <see cref="Tools.ToolCatalogue.Allows"/> from <see cref="ToolAllow"/> and <see cref="ToolDeny"/>.
/// </summary>
public sealed record ClientPolicy(
    string ClientId,
    int MaxRequests,
    int WindowSeconds,
    decimal DailyLimitUsd,
    decimal MonthlyLimitUsd,
    int MaxSessions,
    IReadOnlyList<string> ToolAllow,
    IReadOnlyList<string> ToolDeny,
    IReadOnlyList<string> AllowedHosts,
    SessionRecording Recording = SessionRecording.Off);

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
            [.. browser.CurrentValue.AllowedHosts, .. o.Browser.AllowedHosts],
            SessionRecordings.Parse(o.Recording) ?? SessionRecording.Off);
    }
}
