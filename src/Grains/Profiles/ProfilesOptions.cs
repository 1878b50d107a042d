using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Profiles;

/// <summary>Bounds of saved browser profiles (<c>Anchor:Profiles</c>).</summary>
public sealed class ProfilesOptions
{
    public const string SectionName = "Profiles";

    /// <summary>Profiles one client may keep.</summary>
    [Range(1, 1_000)]
    public int MaxPerClient { get; set; } = 20;

    /// <summary>Largest storage state (cookies and localStorage, as Playwright's JSON) one profile may hold.</summary>
    [Range(1_024, 10_485_760)]
    public int MaxBytes { get; set; } = 262_144;
}
