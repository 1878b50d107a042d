using Anchor.Orleans.Api.Alerts;
using Anchor.Orleans.Api.Health;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// The overview: silos and this silo's readiness checks (what <c>/health/ready</c> runs), sessions open, parked and queued, the
/// switch, today's and this month's spend against the limits, recent alerts. The body is a fragment the page fetches
/// again every second.
/// </summary>
public static class OverviewPage
{
    public const string FragmentPath = "/console/fragments/overview";

    public const int RecentAlerts = 5;

    public static async Task<IResult> PageAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var body = await BodyAsync(http, cancellationToken);
        return ConsoleLayout.Page(http, ConsolePage.Overview, "Overview", Html.Of($"""<div data-refresh="{FragmentPath}">{body}</div>"""));
    }

    public static async Task<IResult> FragmentAsync(HttpContext http, CancellationToken cancellationToken) =>
        ConsoleLayout.Fragment(http, await BodyAsync(http, cancellationToken));

    private static async Task<Html> BodyAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var services = http.RequestServices;
        var grains = services.GetRequiredService<IGrainFactory>();
        var hosts = grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        var leases = grains.GetGrain<ISessionRegistryGrain>(0).ListAsync();
        var stats = grains.GetGrain<ISessionRegistryGrain>(0).GetStatsAsync();
        var emergency = grains.GetGrain<IEmergencyStopGrain>(0).GetStateAsync(cancellationToken);
        var budget = services.GetRequiredService<BudgetStatus>().GetOverviewAsync(cancellationToken);
        var alerts = grains.GetGrain<IAlertGrain>(0).GetRecentAsync(RecentAlerts, cancellationToken);
        var health = services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains(HealthTags.Ready), cancellationToken);
        var view = services.GetRequiredService<EmergencyStopView>();

        var silos = await hosts;
        var open = await leases;
        var queued = (await stats).Queued;
        var state = await emergency;
        var spend = await budget;
        var recent = await alerts;
        var ready = await health;
        var secrets = services.GetService<SecretValues>();

        var siloRows = Html.Join(silos.OrderBy(s => s.SiloName, StringComparer.Ordinal).Select(s => Html.Of($"""
            <tr><td>{s.SiloName}</td><td><code>{s.SiloAddress.ToParsableString()}</code></td><td>{s.Status.ToString()}</td><td>{ConsoleLayout.Time(new DateTimeOffset(s.StartTime, TimeSpan.Zero))}</td><td class="num">{open.Count(l => l.Silo == s.SiloAddress.ToParsableString())}</td></tr>
            """)));
        var checks = Html.Join(ready.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => Html.Of($"""
            <tr><td>{e.Key}</td><td class="{StatusClass(e.Value.Status)}">{e.Value.Status.ToString()}</td><td>{HealthEndpoints.Redact(e.Value.Description ?? "", secrets)}</td></tr>
            """)));
        var parked = open.Count(l => l.Parked);

        return Html.Of($"""
            <div class="grid">
              <section class="card" aria-labelledby="h-sessions"><h2 id="h-sessions">Sessions</h2>
                <p><span class="big" data-open-sessions>{open.Count - parked}</span> open, <span data-parked-sessions>{parked}</span> parked, <span data-queued-sessions>{queued}</span> queued</p>
                <p><a href="{ConsolePaths.Sessions}">All sessions</a></p></section>
              <section class="card" aria-labelledby="h-switch"><h2 id="h-switch">Emergency switch</h2>
                {SwitchState(state, view.RefusalReason())}
                <p><a href="{ConsolePaths.Emergency}">Emergency page</a></p></section>
              <section class="card" aria-labelledby="h-spend"><h2 id="h-spend">Spend</h2>
                {ConsoleLayout.Bar("Today", spend.Daily.SpentUsd + spend.Daily.ReservedUsd, spend.Daily.LimitUsd)}
                {ConsoleLayout.Bar("This month", spend.Monthly.SpentUsd + spend.Monthly.ReservedUsd, spend.Monthly.LimitUsd)}
                <p class="muted">Spent and reserved by open sessions. Month-end forecast {ConsoleLayout.Usd(spend.MonthEndForecastUsd)}.</p></section>
            </div>
            <section aria-labelledby="h-silos"><h2 id="h-silos">Silos ({silos.Length})</h2>
              {ConsoleLayout.Table("Silos", ["Silo", "Address", "Status", "Started", "#Sessions"], siloRows)}
              <h3>Readiness of the silo serving this page</h3>
              {ConsoleLayout.Table("Readiness checks", ["Check", "Status", "Detail"], checks)}
            </section>
            <section aria-labelledby="h-alerts"><h2 id="h-alerts">Recent alerts</h2>
              {AlertsPage.Table([.. recent.Select(AlertView.Of)])}
              <p><a href="{ConsolePaths.Alerts}">All alerts</a></p>
            </section>
            """);
    }

    /// <summary>The switch in words: tripped (by whom, when, why) or not; and whether this silo refuses anyway (a stale view).</summary>
    public static Html SwitchState(EmergencyStopState state, string? refusal) => state.Tripped
        ? Html.Of($"""<p class="state-bad" data-switch="tripped">Tripped by {state.TrippedBy} at {When(state.TrippedAt)}: {state.Reason}</p>""")
        : refusal is not null
            ? Html.Of($"""<p class="state-warn" data-switch="refusing">Not tripped, but this silo refuses: {refusal}</p>""")
            : Html.Of($"""<p class="state-ok" data-switch="off">Not tripped: agents are served.</p>""");

    public static string When(DateTimeOffset? at) => at is { } value ? ConsoleLayout.Time(value) : "";

    public static string StatusClass(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "state-ok",
        HealthStatus.Degraded => "state-warn",
        _ => "state-bad",
    };
}
