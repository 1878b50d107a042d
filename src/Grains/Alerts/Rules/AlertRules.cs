using System.Globalization;
using System.Threading.Channels;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Alerts.Rules;

/// <summary>
/// This silo's alert rules over a sliding window (<c>Alerts:Rules:WindowSeconds</c>) of what the tool pipeline and
/// sessions report. A rate rule fires once when it crosses its threshold with at least <c>Alerts:Rules:MinSamples</c>
/// samples and resolves once when it is back at or under it (or the window is empty); a circuit fires when it opens
/// and resolves when it closes. Record methods are cheap and never block on I/O: alerts go to
/// <see cref="Transitions"/>, which <see cref="AlertRulesWorker"/> raises through <see cref="IAlertSink"/>.
/// </summary>
public sealed class AlertRules
{
    public const string SearchTimeoutRateKey = "rule:search_timeout_rate";
    public const string ExtractionFailureRateKey = "rule:extraction_failure_rate";
    public const string ToolResponseTimeKey = "rule:tool_response_time";
    public const string CleanupFailureRateKey = "rule:cleanup_failure_rate";
    public const string ErrorRateKey = "rule:error_rate";
    public const string CircuitOpenKeyPrefix = "rule:circuit_open:";

    private readonly IOptionsMonitor<AlertsOptions> _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Queue<Bucket> _buckets = new();
    private Bucket? _newest;
    private readonly Bucket _totals = new(0);
    private readonly Dictionary<string, bool> _open = [];
    private readonly Channel<Alert> _transitions = Channel.CreateUnbounded<Alert>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Rule[] _rules;

    public AlertRules(IOptionsMonitor<AlertsOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _rules =
        [
            new(SearchTimeoutRateKey, AlertSeverity.Warning, "Search timeout rate", "search tool calls", "timed out",
                t => (t[Counter.SearchTimeouts], t[Counter.Searches]), o => o.SearchTimeoutRate, Average: false),
            new(ExtractionFailureRateKey, AlertSeverity.Warning, "Extraction failure rate", "extractions", "failed",
                t => (t[Counter.ExtractionFailures], t[Counter.Extractions]), o => o.ExtractionFailureRate, Average: false),
            new(ToolResponseTimeKey, AlertSeverity.Warning, "Average tool response", "tool calls", "",
                t => (0, t[Counter.Calls]), o => o.AverageToolResponseSeconds, Average: true),
            new(CleanupFailureRateKey, AlertSeverity.Warning, "Cleanup failure rate", "cleanups", "failed",
                t => (t[Counter.CleanupFailures], t[Counter.Cleanups]), o => o.CleanupFailureRate, Average: false),
            new(ErrorRateKey, AlertSeverity.Critical, "Tool error rate", "tool calls that ran", "failed",
                t => (t[Counter.Errors], t[Counter.Calls]), o => o.ErrorRate, Average: false),
        ];
    }

    /// <summary>Alerts these rules raise and resolve, in order; read by <see cref="AlertRulesWorker"/>.</summary>
    public ChannelReader<Alert> Transitions => _transitions.Reader;

    /// <summary>
    /// One finished MCP tool call. <paramref name="outcome"/> is the pipeline's (<c>success</c>, <c>error</c>,
    /// <c>refused</c>); refusals are policy, not faults, and count toward no rule. A timeout is
    /// <paramref name="errorCode"/> <c>timeout</c> (or outcome <c>timeout</c>).
    /// </summary>
    public void RecordToolCall(ToolFacts tool, string outcome, string? errorCode, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(tool);
        ArgumentNullException.ThrowIfNull(outcome);
        // A refusal is policy, a cancelled call the client's choice: neither is the service failing.
        if (string.Equals(outcome, "refused", StringComparison.OrdinalIgnoreCase) || string.Equals(outcome, "cancelled", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var timedOut = errorCode == ErrorCodes.Timeout || string.Equals(outcome, "timeout", StringComparison.OrdinalIgnoreCase);
        var failed = timedOut || !string.Equals(outcome, "success", StringComparison.OrdinalIgnoreCase);
        var search = tool.Search; // Search tools' timeouts count toward the search timeout rate.
        Record(bucket =>
        {
            bucket.Add(Counter.Calls);
            bucket.DurationSeconds += Math.Max(0, duration.TotalSeconds);
            if (failed)
            {
                bucket.Add(Counter.Errors);
            }

            if (search)
            {
                bucket.Add(Counter.Searches);
                if (timedOut)
                {
                    bucket.Add(Counter.SearchTimeouts);
                }
            }
        });
    }

    /// <summary>One extraction (<c>browser_extract</c> or a task's extract step): did it produce records.</summary>
    public void RecordExtraction(bool ok) => Record(bucket =>
    {
        bucket.Add(Counter.Extractions);
        if (!ok)
        {
            bucket.Add(Counter.ExtractionFailures);
        }
    });

    /// <summary>One cleanup of a session (browser context closed, lease freed): did it succeed.</summary>
    public void RecordCleanup(bool ok) => Record(bucket =>
    {
        bucket.Add(Counter.Cleanups);
        if (!ok)
        {
            bucket.Add(Counter.CleanupFailures);
        }
    });

    /// <summary>
    /// A circuit breaker of <paramref name="component"/> (e.g. <c>browser</c>) changed state: <c>open</c> or
    /// <c>isolated</c> raises CRITICAL <c>rule:circuit_open:{component}</c>, <c>closed</c> resolves it, <c>half_open</c>
    /// changes nothing. Polly's <c>CircuitState.ToString()</c> names are accepted too.
    /// </summary>
    public void RecordCircuit(string component, string state)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(state);
        var name = Label(component);
        var key = CircuitOpenKeyPrefix + name;
        var normalized = state.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(key);
            if (normalized is "open" or "isolated" && !open)
            {
                _open[key] = true;
                Emit(new Alert(AlertSeverity.Critical, key, $"Circuit open: {name}",
                    $"The {name} circuit breaker is {normalized}: calls that need it are refused fast until it closes.",
                    _time.GetUtcNow(), new Dictionary<string, string> { ["component"] = name, ["state"] = normalized }));
            }
            else if (normalized == "closed" && open)
            {
                _open[key] = false;
                Emit(new Alert(AlertSeverity.Resolved, key, $"Circuit closed: {name}",
                    $"The {name} circuit breaker closed again.",
                    _time.GetUtcNow(), new Dictionary<string, string> { ["component"] = name, ["state"] = normalized }));
            }
        }
    }

    /// <summary>Re-evaluates the window as it slides (called periodically; records evaluate on their own).</summary>
    public void Evaluate()
    {
        lock (_lock)
        {
            EvaluateLocked();
        }
    }

    private void Record(Action<Bucket> change)
    {
        lock (_lock)
        {
            var second = _time.GetUtcNow().ToUnixTimeSeconds();
            Prune(second);
            var bucket = _newest;
            if (bucket is null || bucket.Second != second || _buckets.Count == 0)
            {
                bucket = _newest = new Bucket(second);
                _buckets.Enqueue(bucket);
            }

            var before = bucket.Copy();
            change(bucket);
            _totals.AddDifference(bucket, before);
            EvaluateLocked();
        }
    }

    private void EvaluateLocked()
    {
        var o = _options.CurrentValue.Rules;
        Prune(_time.GetUtcNow().ToUnixTimeSeconds());
        foreach (var rule in _rules)
        {
            var (part, samples) = rule.Sample(_totals);
            var value = samples == 0 ? 0 : rule.Average ? _totals.DurationSeconds / samples : (double)part / samples;
            var threshold = rule.Threshold(o);
            var open = _open.GetValueOrDefault(rule.Key);
            if (!open && samples >= o.MinSamples && value > threshold)
            {
                _open[rule.Key] = true;
                Emit(Describe(rule, rule.Severity, part, samples, value, threshold, o));
            }
            else if (open && (samples == 0 || (samples >= o.MinSamples && value <= threshold)))
            {
                _open[rule.Key] = false;
                Emit(Describe(rule, AlertSeverity.Resolved, part, samples, value, threshold, o));
            }
        }
    }

    private Alert Describe(Rule rule, AlertSeverity severity, long part, long samples, double value, double threshold, AlertsOptions.RulesOptions o)
    {
        var limit = rule.Average ? Seconds(threshold) : Percent(threshold);
        var title = severity == AlertSeverity.Resolved ? $"{rule.Title} back under {limit}" : $"{rule.Title} above {limit}";
        var window = o.WindowSeconds.ToString(CultureInfo.InvariantCulture);
        var message = samples == 0
            ? $"No {rule.Noun} in the last {window} s."
            : rule.Average
                ? string.Create(CultureInfo.InvariantCulture, $"{rule.Noun} took {Seconds(value)} on average ({samples} calls) in the last {window} s; threshold {limit}.")
                : string.Create(CultureInfo.InvariantCulture, $"{Percent(value)} of {rule.Noun} ({part} of {samples}) {rule.Verb} in the last {window} s; threshold {limit}.");
        return new Alert(severity, rule.Key, title, Capitalize(message), _time.GetUtcNow(), new Dictionary<string, string>
        {
            ["value"] = value.ToString("0.####", CultureInfo.InvariantCulture),
            ["threshold"] = threshold.ToString("0.####", CultureInfo.InvariantCulture),
            ["samples"] = samples.ToString(CultureInfo.InvariantCulture),
            ["window_seconds"] = window,
        });
    }

    private void Prune(long nowSecond)
    {
        var oldest = nowSecond - _options.CurrentValue.Rules.WindowSeconds;
        while (_buckets.TryPeek(out var head) && head.Second <= oldest)
        {
            _totals.Subtract(_buckets.Dequeue());
        }

        if (_buckets.Count == 0)
        {
            _totals.Clear();
        }
    }

    private void Emit(Alert alert) => _transitions.Writer.TryWrite(alert);

    private static string Percent(double rate) => (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string Seconds(double seconds) => seconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>A bounded label for a component name (it becomes part of an alert key).</summary>
    private static string Label(string component)
    {
        var label = new string([.. component.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-').Take(40)]);
        return label.Length == 0 ? "unknown" : label;
    }

    private enum Counter
    {
        Calls,
        Errors,
        Searches,
        SearchTimeouts,
        Extractions,
        ExtractionFailures,
        Cleanups,
        CleanupFailures,
    }

    private sealed record Rule(
        string Key,
        AlertSeverity Severity,
        string Title,
        string Noun,
        string Verb,
        Func<Bucket, (long Part, long Samples)> Sample,
        Func<AlertsOptions.RulesOptions, double> Threshold,
        bool Average);

    /// <summary>Counts of one second (or, as totals, of the whole window).</summary>
    private sealed class Bucket(long second)
    {
        private readonly long[] _counts = new long[Enum.GetValues<Counter>().Length];

        public long Second { get; } = second;

        public double DurationSeconds { get; set; }

        public long this[Counter counter] => _counts[(int)counter];

        public void Add(Counter counter) => _counts[(int)counter]++;

        public Bucket Copy()
        {
            var copy = new Bucket(Second) { DurationSeconds = DurationSeconds };
            _counts.CopyTo(copy._counts, 0);
            return copy;
        }

        public void AddDifference(Bucket after, Bucket before)
        {
            for (var i = 0; i < _counts.Length; i++)
            {
                _counts[i] += after._counts[i] - before._counts[i];
            }

            DurationSeconds += after.DurationSeconds - before.DurationSeconds;
        }

        public void Subtract(Bucket bucket)
        {
            for (var i = 0; i < _counts.Length; i++)
            {
                _counts[i] -= bucket._counts[i];
            }

            DurationSeconds = Math.Max(0, DurationSeconds - bucket.DurationSeconds);
        }

        public void Clear()
        {
            Array.Clear(_counts);
            DurationSeconds = 0;
        }
    }
}
