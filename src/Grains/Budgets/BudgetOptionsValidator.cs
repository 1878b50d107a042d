using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>Rules that span fields: limits that contradict each other would make every reservation fail or none.</summary>
public sealed class BudgetOptionsValidator : IValidateOptions<BudgetOptions>
{
    public ValidateOptionsResult Validate(string? name, BudgetOptions options)
    {
        var failures = new List<string>();
        if (options.DailyLimitUsd > options.MonthlyLimitUsd)
        {
            failures.Add($"Anchor:Budget:DailyLimitUsd ({options.DailyLimitUsd}) must not exceed Anchor:Budget:MonthlyLimitUsd ({options.MonthlyLimitUsd}).");
        }

        var t = options.Thresholds;
        if (t.DailyWarningPercent >= t.DailyCriticalPercent)
        {
            failures.Add($"Anchor:Budget:Thresholds:DailyWarningPercent ({t.DailyWarningPercent}) must be below DailyCriticalPercent ({t.DailyCriticalPercent}).");
        }

        if (t.MonthlyWarningPercent >= t.MonthlyCriticalPercent)
        {
            failures.Add($"Anchor:Budget:Thresholds:MonthlyWarningPercent ({t.MonthlyWarningPercent}) must be below MonthlyCriticalPercent ({t.MonthlyCriticalPercent}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
