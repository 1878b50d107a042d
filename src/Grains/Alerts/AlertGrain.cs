using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>
/// Persisted alert head: the next id. The history entries and the per-key states are entries of their own
/// (<see cref="AlertRecord"/>), so a raise or a delivery outcome writes the records it changed, not the history.
/// </summary>
[GenerateSerializer, Alias("anchor.AlertState")]
public sealed class AlertState
{
    [Id(1)]
    public long NextId { get; set; } = 1;
}

/// <summary>One stored alert record: a history entry (key <c>h:</c>id) or a key's state (key <c>k:</c>alert key).</summary>
[GenerateSerializer, Alias("anchor.AlertRecord")]
public sealed class AlertRecord
{
    [Id(0)]
    public AlertEntry? Entry { get; set; }

    [Id(1)]
    public AlertKeyState? KeyState { get; set; }
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
    IEntryStateStore store,
    Serializer serializer,
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

    private const string EntryPrefix = "h:";
    private const string KeyPrefix = "k:";

    private readonly EntryState<AlertState, AlertRecord> _state = new(store, serializer, "alerts");

    // In memory: the history oldest first, and what is known per key. Every change goes through Persist… below.
    private readonly List<AlertEntry> _history = [];
    private readonly Dictionary<string, AlertKeyState> _keys = new(StringComparer.Ordinal);

    private AlertState S => _state.Head;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _state.ReadAsync(this.GetGrainId(), cancellationToken);
        foreach (var (key, record) in _state.Entries)
        {
            if (record.Entry is { } entry)
            {
                _history.Add(entry);
            }
            else if (record.KeyState is { } known)
            {
                _keys[key[KeyPrefix.Length..]] = known;
            }
        }

        _history.Sort((a, b) => a.Id.CompareTo(b.Id));
    }

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
            if (!_keys.TryGetValue(alert.Key, out var open) || !open.Open)
            {
                metrics.Alert(severity, "none", "ignored");
                LogIgnored(logger, alert.Key);
                return new AlertDecision(AlertDisposition.Ignored, null);
            }

            // After a resolve the key starts afresh: the next occurrence is news and is sent at once.
            RemoveKey(alert.Key);
            Update(open.LastEntryId, e => e with { ResolvedAt = now });
            var resolved = Append(alert, source, [.. open.Channels.Where(c => AlertRouting.IsConfigured(c, o))]);
            await _state.WriteAsync(cancellationToken);
            return Accepted(resolved, severity);
        }

        var cooldown = TimeSpan.FromSeconds(o.CooldownSeconds);
        if (alert.Key.StartsWith(AlertRouting.ReportKeyPrefix, StringComparison.Ordinal) && cooldown < ReportCooldown)
        {
            cooldown = ReportCooldown;
        }

        if (_keys.TryGetValue(alert.Key, out var known)
            && now - known.LastSentAt < cooldown
            && Rank(alert.Severity) <= Rank(known.LastSeverity))
        {
            // A repeat that is no louder than what was sent: count it on the entry that was sent.
            Update(known.LastEntryId, e => e with { Suppressed = e.Suppressed + 1 });
            await _state.WriteAsync(cancellationToken);
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

        _keys[alert.Key] = key;
        _state.Set(KeyPrefix + alert.Key, new AlertRecord { KeyState = key });
        await _state.WriteAsync(cancellationToken);
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
            await _state.WriteAsync(cancellationToken);
        }
    }

    public Task<IReadOnlyList<AlertEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default)
    {
        var count = Math.Clamp(limit, 0, AlertHistory.Size);
        return Task.FromResult<IReadOnlyList<AlertEntry>>(Enumerable.Reverse(_history).Take(count).ToList());
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
        _history.Add(entry);
        _state.Set(EntryPrefix + EntryKey(entry.Id), new AlertRecord { Entry = entry });
        if (_history.Count > AlertHistory.Size)
        {
            var dropped = _history.Count - AlertHistory.Size;
            foreach (var old in _history.Take(dropped))
            {
                _state.Remove(EntryPrefix + EntryKey(old.Id));
            }

            _history.RemoveRange(0, dropped);
        }

        return entry;
    }

    /// <summary>Replaces the entry with <paramref name="id"/> if it is still in the history (usually near the end).</summary>
    private bool Update(long id, Func<AlertEntry, AlertEntry> change)
    {
        for (var i = _history.Count - 1; i >= 0; i--)
        {
            if (_history[i].Id == id)
            {
                _history[i] = change(_history[i]);
                _state.Set(EntryPrefix + EntryKey(id), new AlertRecord { Entry = _history[i] });
                return true;
            }

            if (_history[i].Id < id)
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
        var stale = _keys.Where(k => !k.Value.Open && now - k.Value.LastSentAt >= horizon).Select(k => k.Key).ToList();
        foreach (var key in stale)
        {
            RemoveKey(key);
        }

        if (_keys.Count > MaxKeysRemembered)
        {
            foreach (var key in _keys.Where(k => !k.Value.Open).OrderBy(k => k.Value.LastSentAt).Take(_keys.Count - MaxKeysRemembered).Select(k => k.Key).ToList())
            {
                RemoveKey(key);
            }
        }
    }

    private void RemoveKey(string key)
    {
        _keys.Remove(key);
        _state.Remove(KeyPrefix + key);
    }

    /// <summary>Fixed width, so stored history keys sort as their ids do.</summary>
    private static string EntryKey(long id) => id.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

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
