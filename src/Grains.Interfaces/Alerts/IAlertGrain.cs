namespace Anchor.Orleans.Grains.Interfaces.Alerts;

/// <summary>
/// The cluster's one alerting decision point (key 0): deduplicates by key within the cooldown, tracks open
/// WARNING/CRITICAL keys so a RESOLVED goes to the channels that heard the alert, routes by severity and keeps
/// the last <see cref="AlertHistory.Size"/> alerts with the delivery outcome per channel. It never does HTTP itself:
/// the silo that raised the alert delivers and reports each channel's outcome back.
/// </summary>
public interface IAlertGrain : IGrainWithIntegerKey
{
    /// <summary>Decides what happens to <paramref name="alert"/> raised on <paramref name="source"/> (host/silo).</summary>
    Task<AlertDecision> RaiseAsync(Alert alert, string source, CancellationToken cancellationToken = default);

    /// <summary>Records how delivery of alert <paramref name="alertId"/> to one channel ended.</summary>
    Task RecordDeliveryAsync(long alertId, AlertDelivery delivery, CancellationToken cancellationToken = default);

    /// <summary>The most recent alerts, newest first.</summary>
    Task<IReadOnlyList<AlertEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default);
}

/// <summary>Limits of the alert history.</summary>
public static class AlertHistory
{
    /// <summary>How many alerts the history keeps (and the most <c>/api/alerts</c> returns).</summary>
    public const int Size = 1000;
}

/// <summary>The channel names used in routing, history, metrics and the API.</summary>
public static class AlertChannels
{
    public const string Slack = "slack";
    public const string Discord = "discord";
    public const string PagerDuty = "pagerduty";
    public const string Webhook = "webhook";
}

/// <summary>What the alert grain did with a raised alert.</summary>
public enum AlertDisposition
{
    /// <summary>Recorded; <see cref="AlertDecision.Entry"/> lists the channels to deliver to (maybe none).</summary>
    Accepted,

    /// <summary>A repeat of the same key within the cooldown; counted on the earlier entry, not delivered.</summary>
    Suppressed,

    /// <summary>A RESOLVED for a key that is not open; nothing to resolve.</summary>
    Ignored,
}

/// <summary>The grain's answer to a raise: what it decided and, when accepted, the recorded entry to deliver.</summary>
[GenerateSerializer, Immutable, Alias("anchor.AlertDecision")]
public sealed record AlertDecision(
    [property: Id(0)] AlertDisposition Disposition,
    [property: Id(1)] AlertEntry? Entry);

/// <summary>How delivery to one channel stands.</summary>
public enum AlertDeliveryOutcome
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>Delivery of one alert to one channel: outcome, HTTP attempts made, last status code, a short error code.</summary>
[GenerateSerializer, Immutable, Alias("anchor.AlertDelivery")]
public sealed record AlertDelivery(
    [property: Id(0)] string Channel,
    [property: Id(1)] AlertDeliveryOutcome Outcome,
    [property: Id(2)] int Attempts = 0,
    [property: Id(3)] int? StatusCode = null,
    [property: Id(4)] string? Error = null,
    [property: Id(5)] DateTimeOffset? CompletedAt = null);

/// <summary>One alert in the history, with how many repeats were suppressed and its delivery per channel.</summary>
[GenerateSerializer, Immutable, Alias("anchor.AlertEntry")]
public sealed record AlertEntry(
    [property: Id(0)] long Id,
    [property: Id(1)] AlertSeverity Severity,
    [property: Id(2)] string Key,
    [property: Id(3)] string Title,
    [property: Id(4)] string Message,
    [property: Id(5)] DateTimeOffset At,
    [property: Id(6)] string Source,
    [property: Id(7)] IReadOnlyDictionary<string, string> Details,
    [property: Id(8)] int Suppressed,
    [property: Id(9)] DateTimeOffset? ResolvedAt,
    [property: Id(10)] IReadOnlyList<AlertDelivery> Deliveries);
