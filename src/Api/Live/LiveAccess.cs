using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Live;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.AspNetCore.Http;

namespace Anchor.Orleans.Api.Live;

/// <summary>Whether a request may use a live link: the link (and a new cookie, on a first open), or the bare refusal to answer.</summary>
public sealed record LiveAccessResult(LiveLink? Link, string LinkKey, string? NewCookie, IResult Refusal);

/// <summary>The one check of a live link, for the page and its socket alike.</summary>
public static class LiveAccess
{
    /// <summary>Checks <paramref name="token"/> with the request's cookie, or spends it on a first open when <paramref name="openIfNew"/>.</summary>
    public static async Task<LiveAccessResult> CheckAsync(
        HttpContext http, string token, IGrainFactory grains, EmergencyStopView emergency, bool openIfNew, CancellationToken cancellationToken)
    {
        if (!LiveLinks.IsWellFormed(token))
        {
            return Refused("", LiveLinkRefusal.Unknown);
        }

        var key = LiveLinks.Hash(token);
        var grain = grains.GetGrain<ILiveLinkGrain>(key);
        string? newCookie = null;
        LiveLinkCheck check;
        if (http.Request.Cookies[LiveLinks.CookieName] is { Length: > 0 } cookie)
        {
            check = await grain.CheckAsync(LiveLinks.Hash(cookie), cancellationToken);
        }
        else if (openIfNew)
        {
            newCookie = LiveLinks.NewSecret();
            check = await grain.OpenAsync(LiveLinks.Hash(newCookie), cancellationToken);
        }
        else
        {
            check = new LiveLinkCheck(null, LiveLinkRefusal.Used);
        }

        if (check.Link is not { } link)
        {
            return Refused(key, check.Refusal ?? LiveLinkRefusal.Unknown);
        }

        return await EndedAsync(link, grains, emergency)
            ? Refused(key, LiveLinkRefusal.Revoked)
            : new LiveAccessResult(link, key, newCookie, TypedResults.Ok());
    }

    /// <summary>Whether a link's session is over (ended, or the emergency switch tripped), which revokes its links.</summary>
    public static async Task<bool> EndedAsync(LiveLink link, IGrainFactory grains, EmergencyStopView emergency) =>
        emergency.State is { Tripped: true } || await grains.GetGrain<IBrowserSessionGrain>(link.SessionId).GetInfoAsync(null) is null;

    private static LiveAccessResult Refused(string key, LiveLinkRefusal refusal)
    {
        var status = refusal is LiveLinkRefusal.Expired or LiveLinkRefusal.Revoked ? StatusCodes.Status410Gone : StatusCodes.Status404NotFound;
        return new LiveAccessResult(null, key, null, ProblemResponses.Result(ErrorCodes.NotFound, status, "This live link is not valid (used, expired, revoked or unknown)."));
    }
}
