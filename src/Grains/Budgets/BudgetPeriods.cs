using System.Globalization;

namespace Anchor.Orleans.Grains.Budgets;

/// <summary>The UTC periods budgets are kept in, and the ledger grain keys that name them.</summary>
public static class BudgetPeriods
{
    public const string DayPrefix = "day:";
    public const string MonthPrefix = "month:";

    /// <summary><c>day:2026-11-23</c> for the UTC day of <paramref name="at"/>.</summary>
    public static string Day(DateTimeOffset at) => DayPrefix + at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary><c>month:2026-11</c> for the UTC month of <paramref name="at"/>.</summary>
    public static string Month(DateTimeOffset at) => MonthPrefix + at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static bool IsDay(string period) => period.StartsWith(DayPrefix, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="period"/> is a well-formed ledger key.</summary>
    public static bool IsValid(string period) =>
        IsDay(period)
            ? DateTime.TryParseExact(period[DayPrefix.Length..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            : period.StartsWith(MonthPrefix, StringComparison.Ordinal)
              && DateTime.TryParseExact(period[MonthPrefix.Length..], "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    /// <summary>First instant of the UTC month of <paramref name="at"/>.</summary>
    public static DateTimeOffset MonthStart(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
}
