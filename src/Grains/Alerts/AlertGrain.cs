using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>Persisted alert state: the history (oldest first), the next id and what is known per key.</summary>
[GenerateSerializer, Alias("anchor.AlertState")]
public sealed class AlertState
{
    [Id(0)]
    public List<AlertEntry> History { get; set; } = [];

    [Id(1)]
    public long NextId { get; set; } = 1;

    [Id(2)]
    public Dictionary<string, AlertKeyState> Keys { get; set; } = [];
}

/// <summary>Per key: the last entry sent, when and how loud, and whether it is open (and who heard it).</summary>
[GenerateSerializer, Alias("anchor.AlertKeyState")]
public sealed class AlertKeyState
{
    [Id(0)]
    public long LastEntryId { get; set; }

    [Id(1)]
    public DateTimeOffset LastSentAt { get; set; }

    [Id(2)]
    public AlertSeverity LastSeverity { get; set; }

    [Id(3)]
    public bool Open { get; set; }

    [Id(4)]
    public List<string> Channels { get; set; } = [];
}

/// <summary>
/// The one place alerts are decided (key 0). Delivery is deliberately not done here: the grain records the entry
/// with its channels as pending and returns it; the silo that raised it hands it to its <see cref="AlertDispatcher"/>,
/// which delivers off any grain's turn, one lane per channel, and reports each outcome back through
/// <see cref="RecordDeliveryAsync"/>. Awaiting HTTP here, even in parallel with a timeout, would hold every other
/// raise (and <c>/api/alerts</c>) behind the slowest webhook for up to the full retry budget.
/// </summary>
public sealed partial class AlertGrain(
    [PersistentState("alerts", OrleansHostingExtensions.StorageName)] IPersistentState<AlertState> state,
    IOptionsMonitor<AlertsOptions> options,
    AnchorMetrics metrics,
    TimeProvider time,
    ILogger<AlertGrain> logger) : Grain, IAlertGrain
{
    public const int MaxKeyLength = 200;
    public const int MaxTitleLength = 150;
    public const int MaxMessageLength = 2000;
    public const int MaxDetails = 20;
    public const int MaxDetailKeyLength = 64;
    public const int MaxDetailValueLength = 256;

    /// <summary>A report is one per key: repeats are suppressed for at least a day, whatever the cooldown.</summary>
    public static readonly TimeSpan ReportCooldown = TimeSpan.FromDays(1);

    /// <summary>Closed keys are forgotten past their cooldown; this caps the ones remembered in between.</summary>
    private const int MaxKeysRemembered = 10_000;

    private AlertState S => state.State;

    public async Task<AlertDecision> RaiseAsync(Alert alert, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var now = time.GetUtcNow();
        var o = options.CurrentValue;
        alert = Normalize(alert);
        var severity = AlertRouting.Label(alert.Severity);
        Forget(now, o);

        if (alert.Severity == AlertSeverity.Resolved)
        {
            if (!S.Keys.TryGetValue(alert.Key, out var open) || !open.Open)
            {
                metrics.Alert(severity, "none", "ignored");
                LogIgnored(logger, alert.Key);
                return new AlertDecision(AlertDisposition.Ignored, null);
            }

            // After a resolve the key starts afresh: the next occurrence is news and is sent at once.
            S.Keys.Remove(alert.Key);
            Update(open.LastEntryId, e => e with { ResolvedAt = now });
            var resolved = Append(alert, source, [.. open.Channels.Where(c => AlertRouting.IsConfigured(c, o))]);
            await state.WriteStateAsync(cancellationToken);
            return Accepted(resolved, severity);
        }

        var cooldown = TimeSpan.FromSeconds(o.CooldownSeconds);
        if (alert.Key.StartsWith(AlertRouting.ReportKeyPrefix, StringComparison.Ordinal) && cooldown < ReportCooldown)
        {
            cooldown = ReportCooldown;
        }

        if (S.Keys.TryGetValue(alert.Key, out var known)
            && now - known.LastSentAt < cooldown
            && Rank(alert.Severity) <= Rank(known.LastSeverity))
        {
            // A repeat that is no louder than what was sent: count it on the entry that was sent.
            Update(known.LastEntryId, e => e with { Suppressed = e.Suppressed + 1 });
            await state.WriteStateAsync(cancellationToken);
            metrics.Alert(severity, "none", "suppressed");
            LogSuppressed(logger, alert.Key, severity);
            return new AlertDecision(AlertDisposition.Suppressed, null);
        }

        var channels = AlertRouting.Route(alert.Key, alert.Severity, o);
        var entry = Append(alert, source, channels);
        var key = known ?? new AlertKeyState();
        var wasOpen = key.Open;
        key.LastEntryId = entry.Id;
        key.LastSentAt = now;
        key.LastSeverity = alert.Severity;
        if (alert.Severity is AlertSeverity.Warning or AlertSeverity.Critical)
        {
            // An escalation (WARNING, then CRITICAL) must be resolved on every channel that heard either.
            key.Channels = wasOpen ? [.. key.Channels.Union(channels)] : [.. channels];
            key.Open = true;
        }

        S.Keys[alert.Key] = key;
        await state.WriteStateAsync(cancellationToken);
        return Accepted(entry, severity);
    }

    public async Task RecordDeliveryAsync(long alertId, AlertDelivery delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var found = Update(alertId, e => e with
        {
            // Concrete lists: Orleans serializes these, and cannot serialize a collection expression's synthesized type.
            Deliveries = e.Deliveries.Select(d => d.Channel == delivery.Channel ? delivery : d).ToList(),
        });
        if (found)
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public Task<IReadOnlyList<AlertEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default)
    {
        var count = Math.Clamp(limit, 0, AlertHistory.Size);
        return Task.FromResult<IReadOnlyList<AlertEntry>>(Enumerable.Reverse(S.History).Take(count).ToList());
    }

    private AlertDecision Accepted(AlertEntry entry, string severity)
    {
        if (entry.Deliveries.Count == 0)
        {
            metrics.Alert(severity, "none", "no_channel");
        }

        LogAccepted(logger, entry.Id, entry.Key, severity, entry.Deliveries.Count);
        return new AlertDecision(AlertDisposition.Accepted, entry);
    }

    private AlertEntry Append(Alert alert, string source, IReadOnlyList<string> channels)
    {
        var entry = new AlertEntry(
            S.NextId++,
            alert.Severity,
            alert.Key,
            alert.Title,
            alert.Message,
            alert.At,
            source,
            alert.Details ?? new Dictionary<string, string>(),
            0,
            null,
            channels.Select(c => new AlertDelivery(c, AlertDeliveryOutcome.Pending)).ToList());
        S.History.Add(entry);
        if (S.History.Count > AlertHistory.Size)
        {
            S.History.RemoveRange(0, S.History.Count - AlertHistory.Size);
        }

        return entry;
    }

    /// <summary>Replaces the entry with <paramref name="id"/> if it is still in the history (usually near the end).</summary>
    private bool Update(long id, Func<AlertEntry, AlertEntry> change)
    {
        for (var i = S.History.Count - 1; i >= 0; i--)
        {
            if (S.History[i].Id == id)
            {
                S.History[i] = change(S.History[i]);
                return true;
            }

            if (S.History[i].Id < id)
            {
                break;
            }
        }

        return false;
    }

    /// <summary>Drops closed keys whose cooldown has passed, and the oldest closed ones past the cap.</summary>
    private void Forget(DateTimeOffset now, AlertsOptions o)
    {
        var cooldown = TimeSpan.FromSeconds(o.CooldownSeconds);
        var horizon = cooldown > ReportCooldown ? cooldown : ReportCooldown;
        var stale = S.Keys.Where(k => !k.Value.Open && now - k.Value.LastSentAt >= horizon).Select(k => k.Key).ToList();
        foreach (var key in stale)
        {
            S.Keys.Remove(key);
        }

        if (S.Keys.Count > MaxKeysRemembered)
        {
            foreach (var key in S.Keys.Where(k => !k.Value.Open).OrderBy(k => k.Value.LastSentAt).Take(S.Keys.Count - MaxKeysRemembered).Select(k => k.Key).ToList())
            {
                S.Keys.Remove(key);
            }
        }
    }

    private static int Rank(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Critical => 3,
        AlertSeverity.Warning => 2,
        _ => 1,
    };

    /// <summary>Bounds what one alert may carry, so the history and every channel's payload limits hold.</summary>
    private static Alert Normalize(Alert alert)
    {
        if (string.IsNullOrWhiteSpace(alert.Key))
        {
            throw new ArgumentException("An alert needs a key.", nameof(alert));
        }

        var details = alert.Details?
            .Where(d => !string.IsNullOrEmpty(d.Key))
            .Take(MaxDetails)
            .ToDictionary(d => Truncate(d.Key, MaxDetailKeyLength), d => Truncate(d.Value ?? "", MaxDetailValueLength));
        return alert with
        {
            Key = Truncate(alert.Key.Trim(), MaxKeyLength),
            Title = Truncate(string.IsNullOrWhiteSpace(alert.Title) ? alert.Key : alert.Title, MaxTitleLength),
            Message = Truncate(alert.Message ?? "", MaxMessageLength),
            Details = details,
        };
    }

    internal static string Truncate(string value, int max) => value.Length <= max ? value : string.Concat(value.AsSpan(0, max - 1), "…");

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertId} {Key} ({Severity}) accepted for {ChannelCount} channels")]
    private static partial void LogAccepted(ILogger logger, long alertId, string key, string severity, int channelCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Alert {Key} ({Severity}) suppressed within the cooldown")]
    private static partial void LogSuppressed(ILogger logger, string key, string severity);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Resolve of {Key} ignored: no open alert with that key")]
    private static partial void LogIgnored(ILogger logger, string key);
}
