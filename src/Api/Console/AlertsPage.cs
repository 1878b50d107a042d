using Anchor.Orleans.Api.Alerts;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.AspNetCore.Http;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>Recent alerts, newest first, with their delivery per channel (what <c>GET /api/alerts</c> answers).</summary>
public static class AlertsPage
{
    public static async Task<IResult> PageAsync(HttpContext http, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var entries = await grains.GetGrain<IAlertGrain>(0).GetRecentAsync(AlertsApi.DefaultLimit, cancellationToken);
        return ConsoleLayout.Page(http, ConsolePage.Alerts, "Alerts", Table([.. entries.Select(AlertView.Of)]));
    }

    public static Html Table(IReadOnlyList<AlertView> alerts)
    {
        if (alerts.Count == 0)
        {
            return Html.Of($"""<p class="muted">No alerts.</p>""");
        }

        var rows = Html.Join(alerts.Select(a => Html.Of($"""
            <tr><td>{ConsoleLayout.Time(a.At)}</td><td>{a.Severity}</td><td>{a.Title}<div class="muted">{a.Message}</div></td><td>{a.Source}</td>
            <td>{(a.ResolvedAt is null ? "open" : "resolved " + ConsoleLayout.Time(a.ResolvedAt.Value))}</td>
            <td><ul>{Html.Join(a.Deliveries.Select(Delivery))}</ul></td></tr>
            """)));
        return ConsoleLayout.Table("Alerts", ["Time", "Severity", "Alert", "Source", "State", "Delivery"], rows);
    }

    private static Html Delivery(AlertDeliveryView d) => Html.Of($"""
        <li>{d.Channel}: {d.Outcome} after {d.Attempts} attempt(s){(d.StatusCode is null ? "" : $" (HTTP {d.StatusCode})")}{(d.Error is null ? "" : " — " + d.Error)}</li>
        """);
}
