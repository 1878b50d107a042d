using Anchor.Orleans.Api.Sessions;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// Every open session cluster-wide (as <c>GET /api/sessions</c> lists them), filterable by client and refreshed every
/// second; below, recently ended sessions with a kept timeline.
/// </summary>
public static class SessionsPage
{
    public const string FragmentPath = "/console/fragments/sessions";

    public const int RecentLimit = 50;

    public static async Task<IResult> PageAsync(HttpContext http, IGrainFactory grains, TimeProvider time, string? client, string? closed, CancellationToken cancellationToken)
    {
        client = string.IsNullOrWhiteSpace(client) ? null : client.Trim();
        var fragment = client is null ? FragmentPath : $"{FragmentPath}?client={Uri.EscapeDataString(client)}";
        var body = await BodyAsync(http, grains, time, client, cancellationToken);
        var notice = closed is null ? Html.Empty : ConsoleLayout.Notice($"Session {closed} closed.");
        return ConsoleLayout.Page(http, ConsolePage.Sessions, "Sessions", Html.Of($"""
            {notice}
            <form method="get" action="{ConsolePaths.Sessions}" class="actions" role="search">
              <div><label for="client">Client</label><input type="text" id="client" name="client" value="{client}" autocomplete="off"></div>
              <div><button type="submit">Filter</button> <a class="button secondary" href="{ConsolePaths.Sessions}">All clients</a></div>
            </form>
            <div data-refresh="{fragment}">{body}</div>
            """));
    }

    public static async Task<IResult> FragmentAsync(HttpContext http, IGrainFactory grains, TimeProvider time, string? client, CancellationToken cancellationToken) =>
        ConsoleLayout.Fragment(http, await BodyAsync(http, grains, time, string.IsNullOrWhiteSpace(client) ? null : client.Trim(), cancellationToken));

    private static async Task<Html> BodyAsync(HttpContext http, IGrainFactory grains, TimeProvider time, string? client, CancellationToken cancellationToken)
    {
        var listing = SessionListing.ListAsync(grains, client, cancellationToken);
        var recent = http.RequestServices.GetRequiredService<ISessionTimeline>().RecentAsync(client, RecentLimit, cancellationToken);
        var leases = await grains.GetGrain<ISessionRegistryGrain>(0).ListAsync(client);
        var open = await listing;
        var ended = (await recent).Where(r => r.Closed).ToList();
        var parked = leases.Where(l => l.Parked).Select(l => l.SessionId).ToHashSet(StringComparer.Ordinal);
        var now = time.GetUtcNow();

        var rows = Html.Join(open.OrderByDescending(s => s.OpenedAt).Select(s => Html.Of($"""
            <tr data-session="{s.SessionId}"><td><a href="{ConsolePaths.Session(s.SessionId)}">{s.SessionId}</a></td><td>{s.ClientId}</td><td><code>{s.Silo}</code></td>
            <td>{State(s, parked)}</td><td class="url">{ConsoleLayout.Url(s.Url)}</td><td class="num">{ConsoleLayout.Age(now - s.OpenedAt)}</td><td class="num">{s.Actions}</td><td class="num">{ConsoleLayout.Usd(s.CostUsd)}</td></tr>
            """)));
        var openTable = open.Count == 0
            ? Html.Of($"""<p class="muted" data-no-sessions>No open sessions.</p>""")
            : ConsoleLayout.Table("Open sessions", ["Session", "Client", "Silo", "State", "Current URL", "#Age", "#Actions", "#Cost so far"], rows);
        var endedRows = Html.Join(ended.Select(r => Html.Of($"""
            <tr><td><a href="{ConsolePaths.Session(r.SessionId)}">{r.SessionId}</a></td><td>{r.ClientId}</td><td>{ConsoleLayout.Time(r.FirstAt)}</td><td>{ConsoleLayout.Time(r.LastAt)}</td><td class="num">{r.Entries}</td><td class="num">{ConsoleLayout.Usd(r.TotalCostUsd)}</td></tr>
            """)));
        var endedTable = ended.Count == 0 ? Html.Of($"""<p class="muted">No recently ended sessions.</p>""")
            : ConsoleLayout.Table("Recently ended sessions", ["Session", "Client", "First step", "Last step", "#Steps", "#Cost"], endedRows);
        return Html.Of($"""
            <section aria-labelledby="h-open"><h2 id="h-open">Open sessions ({open.Count})</h2>{openTable}</section>
            <section aria-labelledby="h-ended"><h2 id="h-ended">Recently ended</h2>{endedTable}</section>
            """);
    }

    private static string State(SessionInfo session, HashSet<string> parked) =>
        parked.Contains(session.SessionId) ? "parked" : session.Running is { } running ? "running " + running : "idle";
}
