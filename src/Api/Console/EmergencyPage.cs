using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.EmergencyStop;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Microsoft.AspNetCore.Http;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// The emergency switch: its state, trip (a reason and the typed word <see cref="Confirmation"/>), reset, and the audit
/// trail of who did what and when. The actor is the signed-in operator's client id.
/// </summary>
public static class EmergencyPage
{
    /// <summary>What an operator types to confirm a trip.</summary>
    public const string Confirmation = "STOP";

    public static async Task<IResult> PageAsync(HttpContext http, IGrainFactory grains, EmergencyStopView view, string? notice, CancellationToken cancellationToken) =>
        Render(http, await Switch(grains).GetStateAsync(cancellationToken), view, notice, error: null, reason: null, StatusCodes.Status200OK);

    public static async Task<IResult> TripAsync(HttpContext http, IGrainFactory grains, EmergencyStopView view, CancellationToken cancellationToken)
    {
        var form = await http.Request.ReadFormAsync(cancellationToken);
        var reason = form["reason"].ToString().Trim();
        var error = string.IsNullOrEmpty(reason) || reason.Length > EmergencyShutdownApi.MaxReasonLength
            ? $"Give a reason of 1 to {EmergencyShutdownApi.MaxReasonLength} characters."
            : form["confirm"].ToString().Trim() != Confirmation
                ? $"Type {Confirmation} to confirm."
                : null;
        if (error is not null)
        {
            return Render(http, await Switch(grains).GetStateAsync(cancellationToken), view, null, error, reason, StatusCodes.Status400BadRequest);
        }

        await Switch(grains).TripAsync(reason, Actor(http), cancellationToken);
        return TypedResults.Redirect($"{ConsolePaths.Emergency}?notice=tripped");
    }

    public static async Task<IResult> ResetAsync(HttpContext http, IGrainFactory grains, CancellationToken cancellationToken)
    {
        await Switch(grains).ResetAsync(Actor(http), cancellationToken);
        return TypedResults.Redirect($"{ConsolePaths.Emergency}?notice=reset");
    }

    private static IResult Render(HttpContext http, EmergencyStopState state, EmergencyStopView view, string? notice, string? error, string? reason, int status)
    {
        var message = notice switch
        {
            "tripped" => "The switch is tripped: agents are refused.",
            "reset" => "The switch is reset: agents are served again.",
            _ => null,
        };
        var audit = state.Audit.Count == 0
            ? Html.Of($"""<p class="muted">Nobody has tripped or reset the switch.</p>""")
            : ConsoleLayout.Table("Trips and resets", ["Time", "Action", "Who", "Reason"], AuditRows(state));
        var action = state.Tripped
            ? Html.Of($"""
                <form method="post" action="{ConsolePaths.Emergency}/reset">{ConsoleLayout.Token(http)}
                  <p>Resetting serves agents again at once, on every silo.</p>
                  <button type="submit">Reset the switch</button>
                </form>
                """)
            : Html.Of($"""
                <form method="post" action="{ConsolePaths.Emergency}/trip">{ConsoleLayout.Token(http)}
                  <p>Tripping refuses every agent call with <code>emergency_shutdown</code> and closes every open session, on every silo, until reset.</p>
                  <label for="reason">Reason</label><input type="text" id="reason" name="reason" required maxlength="{EmergencyShutdownApi.MaxReasonLength}" value="{reason}">
                  <label for="confirm">Type {Confirmation} to confirm</label><input type="text" id="confirm" name="confirm" required autocomplete="off" aria-describedby="confirm-help">
                  <p id="confirm-help" class="muted">The switch trips only when this field says {Confirmation}.</p>
                  <button type="submit" class="danger">Trip the switch</button>
                </form>
                """);
        return ConsoleLayout.Page(http, ConsolePage.Emergency, "Emergency switch", Html.Of($"""
            {ConsoleLayout.Notice(message)}{ConsoleLayout.Notice(error, error: true)}
            {OverviewPage.SwitchState(state, view.RefusalReason())}
            {action}
            <section aria-labelledby="h-audit"><h2 id="h-audit">Who did what</h2>{audit}</section>
            """), status);
    }

    private static Html AuditRows(EmergencyStopState state) =>
        Html.Join(state.Audit.OrderByDescending(a => a.At).Select(a => Html.Of($"""<tr><td>{ConsoleLayout.Time(a.At)}</td><td>{a.Action}</td><td>{a.Actor}</td><td>{a.Reason}</td></tr>""")));

    private static IEmergencyStopGrain Switch(IGrainFactory grains) => grains.GetGrain<IEmergencyStopGrain>(0);

    private static string Actor(HttpContext http) => http.User.GetClientId() ?? "unknown";
}
