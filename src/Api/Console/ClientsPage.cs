using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// Every client that has an API key: its rate-limit use, its day and month spend against its limits, its tool policy and
/// its open sessions (what <c>budget_status</c> tells the client itself, for all of them).
/// </summary>
public static class ClientsPage
{
    public static async Task<IResult> PageAsync(
        HttpContext http, IGrainFactory grains, IOptionsMonitor<AuthOptions> auth, ClientPolicies policies, BudgetStatus budgets, CancellationToken cancellationToken)
    {
        var clients = auth.CurrentValue.ApiKeys
            .GroupBy(k => k.ClientId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Policy: policies.For(g.Key), Role: g.Max(k => k.Role)))
            .ToList();
        var leases = await grains.GetGrain<ISessionRegistryGrain>(0).ListAsync();
        var reports = await Task.WhenAll(clients.Select(c => budgets.GetForClientAsync(c.Policy, cancellationToken)));
        var cards = Html.Join(clients.Zip(reports).Select(x => Card(x.First.Policy, x.First.Role, x.Second, leases.Count(l => l.ClientId == x.First.Policy.ClientId))));
        return ConsoleLayout.Page(http, ConsolePage.Clients, "Clients", Html.Of($"""<div class="grid">{cards}</div>"""));
    }

    private static Html Card(ClientPolicy policy, ApiRole role, BudgetStatusReport report, int openSessions)
    {
        var id = "client-" + policy.ClientId;
        var used = report.RateLimit.Limit - report.RateLimit.Remaining;
        var tools = policy.ToolAllow.Count == 0 && policy.ToolDeny.Count == 0
            ? "every tool"
            : $"allow: {(policy.ToolAllow.Count == 0 ? "all" : string.Join(", ", policy.ToolAllow))}; deny: {(policy.ToolDeny.Count == 0 ? "none" : string.Join(", ", policy.ToolDeny))}";
        return Html.Of($"""
            <section class="card" aria-labelledby="{id}" data-client="{policy.ClientId}"><h2 id="{id}">{policy.ClientId}</h2>
              <dl class="facts">
                <dt>Role</dt><dd>{role.ToString()}</dd>
                <dt>Open sessions</dt><dd>{openSessions} of at most {policy.MaxSessions}</dd>
                <dt>Rate limit</dt><dd>{used} of {report.RateLimit.Limit} calls in {report.RateLimit.WindowSeconds} s</dd>
                <dt>Tools</dt><dd>{tools}</dd>
              </dl>
              {ConsoleLayout.Bar("Today", report.Daily.Client.SpentUsd + report.Daily.Client.ReservedUsd, report.Daily.Client.LimitUsd)}
              {ConsoleLayout.Bar("This month", report.Monthly.Client.SpentUsd + report.Monthly.Client.ReservedUsd, report.Monthly.Client.LimitUsd)}
              <p><a href="{ConsolePaths.Sessions}?client={Uri.EscapeDataString(policy.ClientId)}">Its sessions</a></p>
            </section>
            """);
    }
}
