namespace Anchor.Orleans.Grains.Alerts.Reports;

/// <summary>
/// Where the daily cost report gets its figures. Governance implements it (registered with <c>AddSingleton</c>);
/// until then <see cref="NoCostReportSource"/> reports that there is no data.
/// </summary>
public interface ICostReportSource
{
    /// <summary>The figures for UTC <paramref name="day"/>, or null when there is nothing to report.</summary>
    Task<DailyCostReport?> GetDailyReportAsync(DateOnly day, CancellationToken cancellationToken = default);
}

/// <summary>Spend and activity of one UTC day, with the month to date and the clients that spent most.</summary>
public sealed record DailyCostReport(
    DateOnly Day,
    decimal SpendUsd,
    decimal DailyLimitUsd,
    decimal MonthToDateUsd,
    decimal MonthlyLimitUsd,
    long Sessions,
    long ToolCalls,
    IReadOnlyList<ClientSpend> TopClients);

/// <summary>One client's spend on the reported day.</summary>
public sealed record ClientSpend(string ClientId, decimal SpendUsd);

/// <summary>The stand-in until governance provides figures: always "no data".</summary>
public sealed class NoCostReportSource : ICostReportSource
{
    public Task<DailyCostReport?> GetDailyReportAsync(DateOnly day, CancellationToken cancellationToken = default) =>
        Task.FromResult<DailyCostReport?>(null);
}
