using System.ComponentModel.DataAnnotations;
using Anchor.Orleans.Grains.Hosting;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>Spend limits and alert thresholds (<c>Anchor:Budget</c>), in US dollars.</summary>
public sealed class BudgetOptions
{
    public const string SectionName = "Budget";

    /// <summary>No new spend is admitted past it in one UTC day.</summary>
    [Range(0.01, 10_000_000)]
    public decimal DailyLimitUsd { get; set; } = 100m;

    /// <summary>No new spend is admitted past it in one UTC month.</summary>
    [Range(0.01, 100_000_000)]
    public decimal MonthlyLimitUsd { get; set; } = 2000m;

    /// <summary>Recorded spend in one day at which the cluster trips emergency shutdown by itself.</summary>
    [Range(0.01, 100_000_000)]
    public decimal EmergencyShutdownUsd { get; set; } = 500m;

    [ValidateNested]
    public BudgetThresholds Thresholds { get; set; } = new();
}

/// <summary>Utilization percentages at which a warning and a critical alert fire, once per period each.</summary>
public sealed class BudgetThresholds
{
    [Range(1, 100)]
    public int DailyWarningPercent { get; set; } = 25;

    [Range(1, 100)]
    public int DailyCriticalPercent { get; set; } = 50;

    [Range(1, 100)]
    public int MonthlyWarningPercent { get; set; } = 50;

    [Range(1, 100)]
    public int MonthlyCriticalPercent { get; set; } = 80;
}
