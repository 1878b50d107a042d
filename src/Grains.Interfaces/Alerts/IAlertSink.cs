namespace Anchor.Orleans.Grains.Interfaces.Alerts;

/// <summary>How loud an alert is. <see cref="Resolved"/> closes an earlier alert with the same key.</summary>
public enum AlertSeverity
{
    Info,
    Warning,
    Critical,
    Resolved,
}

/// <summary>One alert. <see cref="Key"/> deduplicates (e.g. <c>budget:daily:2026-11-23:50</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.Alert")]
public sealed record Alert(
    [property: Id(0)] AlertSeverity Severity,
    [property: Id(1)] string Key,
    [property: Id(2)] string Title,
    [property: Id(3)] string Message,
    [property: Id(4)] DateTimeOffset At,
    [property: Id(5)] IReadOnlyDictionary<string, string>? Details = null);

/// <summary>Where features raise alerts; the alerting path decides dedup, routing and delivery.</summary>
public interface IAlertSink
{
    Task RaiseAsync(Alert alert, CancellationToken cancellationToken = default);
}
