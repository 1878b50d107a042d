using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.EmergencyStop;

/// <summary>How each silo keeps its view of the emergency switch (<c>Anchor:EmergencyStop</c>).</summary>
public sealed class EmergencyStopOptions
{
    public const string SectionName = "EmergencyStop";

    /// <summary>How often a silo polls the switch (and renews its push subscription).</summary>
    [Range(1, 300)]
    public int RefreshSeconds { get; set; } = 2;

    /// <summary>A silo that has not heard from the switch for this long refuses work as if it were tripped.</summary>
    [Range(2, 3600)]
    public int StaleAfterSeconds { get; set; } = 10;
}

/// <summary>The view must be refreshed several times before it may go stale, or a healthy silo would refuse work.</summary>
public sealed class EmergencyStopOptionsValidator : IValidateOptions<EmergencyStopOptions>
{
    public ValidateOptionsResult Validate(string? name, EmergencyStopOptions options) =>
        options.StaleAfterSeconds >= 2 * options.RefreshSeconds
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Anchor:EmergencyStop:StaleAfterSeconds ({options.StaleAfterSeconds}) must be at least twice Anchor:EmergencyStop:RefreshSeconds ({options.RefreshSeconds}).");
}

/// <summary>Actors recorded in the audit trail when the system, not an operator, acts.</summary>
public static class EmergencyStopActors
{
    public const string Budget = "system:budget";
    public const string Import = "system:import";
}
