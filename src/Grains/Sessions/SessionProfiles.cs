using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Anchor.Orleans.Grains.Profiles;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>A session's side of saved profiles: the cookies and storage a session opens with, and reading its own to save one.</summary>
internal static class SessionProfiles
{
    /// <summary>The storage state of the client's saved <paramref name="profile"/> (null for none); unknown names are refused before any slot is taken.</summary>
    public static async Task<string?> LoadAsync(IGrainFactory grains, string clientId, string? profile)
    {
        if (profile is null)
        {
            return null;
        }

        ClientProfilesGrain.CheckName(profile);
        return await grains.GetGrain<IClientProfilesGrain>(clientId).LoadAsync(profile)
            ?? throw new AnchorException(ErrorCodes.InvalidArgument, $"you have no saved profile '{profile}' (browser_profile_list shows yours).");
    }

    /// <summary>The cookies and storage of session <paramref name="sessionId"/>'s <paramref name="page"/>, within <paramref name="limit"/>.</summary>
    public static async Task<string> ReadAsync(string sessionId, BrowserPage page, TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            return await page.StorageStateAsync(limit, cancellationToken);
        }
        catch (Microsoft.Playwright.PlaywrightException)
        {
            throw new AnchorException(ErrorCodes.BrowserError, $"could not read the cookies and storage of session '{sessionId}'.");
        }
    }
}
