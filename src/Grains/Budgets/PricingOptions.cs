using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>What browser work costs (<c>Anchor:Pricing</c>), in US dollars.</summary>
public sealed class PricingOptions
{
    public const string SectionName = "Pricing";

    /// <summary>Cost of an open session per minute.</summary>
    [Range(0, 1_000)]
    public decimal SessionMinuteUsd { get; set; } = 0.05m;

    /// <summary>Cost of one browser action.</summary>
    [Range(0, 1_000)]
    public decimal ActionUsd { get; set; } = 0.002m;

    /// <summary>Reserved from the budgets when a session opens, settled at close.</summary>
    [Range(0, 1_000)]
    public decimal SessionReserveUsd { get; set; } = 0.25m;
}
