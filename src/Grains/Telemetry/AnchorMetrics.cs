using System.Diagnostics.Metrics;
using Anchor.Orleans.Grains.Alerts.Rules;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Operations;
using Anchor.Orleans.Grains.Tools;

namespace Anchor.Orleans.Grains.Telemetry;

/// <summary>
/// The service's own instruments (meter <c>Anchor.Orleans</c>). Names are chosen so the Prometheus exporter
/// shows them as <c>anchor_sessions_created_total</c>, <c>anchor_session_duration_seconds</c> and so on. Labels
/// are bounded: never a session id, client id or URL.
/// </summary>
public sealed class AnchorMetrics : IDisposable
{
    public const string MeterName = "Anchor.Orleans";

    private readonly Meter _meter;
    private readonly Counter<long> _sessionsCreated;
    private readonly Counter<long> _sessionsEnded;
    private readonly UpDownCounter<long> _sessionsActive;
    private readonly Histogram<double> _sessionDuration;
    private readonly Counter<long> _toolCalls;
    private readonly Histogram<double> _toolDuration;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _cleanup;
    private readonly Histogram<double> _completeness;
    private readonly Counter<long> _cache;
    private readonly Counter<long> _alerts;
    private readonly Histogram<double> _checkpointDuration;
    private readonly Histogram<double> _checkpointBytes;
    private readonly Counter<long> _moves;
    private readonly Counter<long> _loadRefused;

    private readonly OperationsCollector _operations;
    private readonly AlertRules _rules;

    public AnchorMetrics(IMeterFactory meterFactory, OperationsCollector operations, AlertRules rules)
    {
        _operations = operations;
        _rules = rules;
        _meter = meterFactory.Create(MeterName);
        _sessionsCreated = _meter.CreateCounter<long>("anchor.sessions.created", description: "Browser sessions opened.");
        _sessionsEnded = _meter.CreateCounter<long>("anchor.sessions.ended", description: "Browser sessions ended, by reason.");
        _sessionsActive = _meter.CreateUpDownCounter<long>("anchor.sessions.active", description: "Browser sessions open on this silo.");
        _sessionDuration = _meter.CreateHistogram<double>("anchor.session.duration", unit: "s", description: "How long sessions stayed open.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] });
        _toolCalls = _meter.CreateCounter<long>("anchor.tool.calls", description: "MCP tool calls, by tool and outcome (success, error, refused, cancelled).");
        _toolDuration = _meter.CreateHistogram<double>("anchor.tool.call.duration", unit: "s", description: "MCP tool call duration.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180] });
        _refusals = _meter.CreateCounter<long>("anchor.admissions.refused", description: "Tool calls refused by admission, by reason.");
        _cleanup = _meter.CreateCounter<long>("anchor.cleanup", description: "Session cleanups (browser contexts closed, leaked leases freed), by outcome.");
        _completeness = _meter.CreateHistogram<double>("anchor.extract.completeness", description: "Fields found ÷ fields asked per extraction.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1] });
        _cache = _meter.CreateCounter<long>("anchor.cache.requests", description: "Extraction cache lookups, by result (hit, miss).");
        _checkpointDuration = _meter.CreateHistogram<double>("anchor.session.checkpoint.duration", unit: "s", description: "Writing one session checkpoint (reading the browser's state and storing it), by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _checkpointBytes = _meter.CreateHistogram<double>("anchor.session.checkpoint.size", unit: "By", description: "Size of the storage state a checkpoint keeps.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576] });
        _moves = _meter.CreateCounter<long>("anchor.sessions.moved", description: "Sessions moved between silos: suspended by a draining silo, restored (from a drain or a lost silo), or failed to restore.");
        _loadRefused = _meter.CreateCounter<long>("anchor.sessions.load_refused", description: "New sessions refused because their silo, like every other, was above Anchor:Sessions:MaxCpuPercent or MaxMemoryPercent, by resource (cpu, memory).");
        _alerts = _meter.CreateCounter<long>("anchor.alerts", description: "Alerts by severity, channel and outcome (delivered, failed; suppressed, ignored, no_channel with channel none).");
    }

    public Meter Meter => _meter;

    public void SessionOpened()
    {
        _sessionsCreated.Add(1);
        _sessionsActive.Add(1);
    }

    /// <summary>A checkpoint written (or failed) after <paramref name="duration"/>, keeping <paramref name="bytes"/> of storage state.</summary>
    public void Checkpoint(bool success, TimeSpan duration, int bytes)
    {
        _checkpointDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", success ? "success" : "failed"));
        if (success)
        {
            _checkpointBytes.Record(bytes);
        }
    }

    /// <summary>A session left this silo (<c>suspended</c>) or arrived from another (<c>restored</c>, <c>restore_failed</c>, <c>restore_refused</c>).</summary>
    public void SessionMoved(string outcome)
    {
        _moves.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        _sessionsActive.Add(outcome switch { "suspended" => -1, "restored" => 1, _ => 0 });
    }

    /// <summary>A session this silo hosted ended.</summary>
    public void SessionClosed(SessionEndReason reason, TimeSpan duration)
    {
        _sessionsActive.Add(-1);
        SessionEnded(reason, duration);
    }

    /// <summary>A session ended (also one lost with another silo, counted by the registry).</summary>
    public void SessionEnded(SessionEndReason reason, TimeSpan duration)
    {
        _sessionsEnded.Add(1, new KeyValuePair<string, object?>("reason", ReasonLabel(reason)));
        _sessionDuration.Record(Math.Max(0, duration.TotalSeconds));
    }

    /// <summary>
    /// One tool call: counters, the operations snapshot and the alert rules all hear of it here. Only catalogued tools
    /// get here (an unknown name is a protocol error), so the <c>tool</c> label is bounded by the catalogue.
    /// </summary>
    public void ToolCall(ToolFacts tool, string outcome, string? errorCode, TimeSpan duration)
    {
        _operations.ToolCall(tool, outcome, duration);
        _rules.RecordToolCall(tool, outcome, errorCode, duration);
        if (tool.Extraction && outcome == "error")
        {
            _rules.RecordExtraction(ok: false);
        }

        _toolCalls.Add(1, new("tool", tool.Name), new("outcome", outcome));
        _toolDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("tool", tool.Name));
    }

    /// <summary>A new session refused for load; <paramref name="resource"/> is <c>cpu</c> or <c>memory</c>.</summary>
    public void LoadRefused(string resource) => _loadRefused.Add(1, new KeyValuePair<string, object?>("resource", resource));

    /// <summary>
    /// The gauges <c>anchor_silo_cpu_ratio</c> and <c>anchor_silo_memory_ratio</c> (0..1 of what this silo may use), on
    /// the service's meter; a silo whose load is not known yet reports none.
    /// </summary>
    public static void SiloLoadGauges(IMeterFactory meters, Func<double?> cpu, Func<double?> memory)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("anchor.silo.cpu.ratio", () => Observe(cpu), description: "CPU of this silo's process tree (silo, Chromium, renderers) over the last 2 s ÷ the cores it may use.");
        meter.CreateObservableGauge("anchor.silo.memory.ratio", () => Observe(memory), description: "Memory (PSS) of this silo's process tree ÷ the memory it may use.");

        static IEnumerable<Measurement<double>> Observe(Func<double?> read) => read() is { } value ? [new(value)] : [];
    }

    public void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Cleanup(bool success)
    {
        _cleanup.Add(1, new KeyValuePair<string, object?>("outcome", success ? "success" : "failure"));
        _rules.RecordCleanup(success);
    }

    public void Extracted(int records, double completeness)
    {
        _completeness.Record(completeness);
        _rules.RecordExtraction(ok: records > 0);
        _operations.Extraction(records, completeness);
    }

    public void CacheLookup(bool hit)
    {
        _cache.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
        _operations.CacheLookup(hit);
    }

    /// <summary>One alert outcome: a delivery to <paramref name="channel"/>, or a decision with channel <c>none</c>.</summary>
    public void Alert(string severity, string channel, string outcome) =>
        _alerts.Add(1, new("severity", severity), new("channel", channel), new("outcome", outcome));

    /// <summary>The <c>reason</c> label: snake_case of the end reason (completed, timed_out, idle, emergency, lost, …).</summary>
    public static string ReasonLabel(SessionEndReason reason) => reason switch
    {
        SessionEndReason.TimedOut => "timed_out",
        _ => reason.ToString().ToLowerInvariant(),
    };

    public void Dispose() => _meter.Dispose();
}
