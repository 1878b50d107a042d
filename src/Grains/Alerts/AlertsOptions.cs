using System.ComponentModel.DataAnnotations;
using Anchor.Orleans.Grains.Hosting;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>Alert channels (<c>Anchor:Alerts</c>). A channel with no URL is off. URLs and keys are secrets.</summary>
public sealed class AlertsOptions
{
    public const string SectionName = "Alerts";

    public WebhookChannel Slack { get; set; } = new();

    public WebhookChannel Discord { get; set; } = new();

    public PagerDutyChannel PagerDuty { get; set; } = new();

    public GenericWebhookChannel Webhook { get; set; } = new();

    /// <summary>An alert with the same key is not sent again within this many seconds.</summary>
    [Range(0, 86_400)]
    public int CooldownSeconds { get; set; } = 300;

    /// <summary>Retries, timeouts and the circuit breaker of every channel's HTTP client.</summary>
    [ValidateNested]
    public DeliveryOptions Delivery { get; set; } = new();

    /// <summary>The in-process rules over a sliding window of this silo's tool calls, extractions and cleanups.</summary>
    [ValidateNested]
    public RulesOptions Rules { get; set; } = new();

    /// <summary>The daily cost report to the reports route (Slack and the generic webhook).</summary>
    [ValidateNested]
    public ReportsOptions Reports { get; set; } = new();

    public sealed class WebhookChannel
    {
        public string WebhookUrl { get; set; } = "";
    }

    public sealed class GenericWebhookChannel
    {
        public string Url { get; set; } = "";
    }

    public sealed class PagerDutyChannel
    {
        public string RoutingKey { get; set; } = "";

        public string EventsUrl { get; set; } = "https://events.pagerduty.com/v2/enqueue";
    }

    /// <summary>
    /// Per channel: a total timeout around retries with exponential backoff (honouring <c>Retry-After</c>), a
    /// circuit breaker, and a timeout per attempt. Seconds are fractional so tests can run fast.
    /// </summary>
    public sealed class DeliveryOptions
    {
        [Range(0, 10)]
        public int MaxRetries { get; set; } = 3;

        /// <summary>Delay before the first retry; doubles (with jitter) for each further one.</summary>
        [Range(0.001, 60)]
        public double RetryDelaySeconds { get; set; } = 2;

        [Range(0.1, 300)]
        public double AttemptTimeoutSeconds { get; set; } = 10;

        /// <summary>Limit for one delivery including every retry.</summary>
        [Range(0.1, 3600)]
        public double TotalTimeoutSeconds { get; set; } = 60;

        /// <summary>The breaker opens when this share of attempts fails within <see cref="BreakerSamplingSeconds"/>…</summary>
        [Range(0.01, 1)]
        public double BreakerFailureRatio { get; set; } = 0.5;

        /// <summary>…and at least this many attempts were made in that time.</summary>
        [Range(2, 10_000)]
        public int BreakerMinimumThroughput { get; set; } = 10;

        [Range(0.5, 3600)]
        public double BreakerSamplingSeconds { get; set; } = 120;

        /// <summary>How long an open breaker fails deliveries fast before trying the channel again.</summary>
        [Range(0.5, 3600)]
        public double BreakerBreakSeconds { get; set; } = 60;
    }

    /// <summary>Thresholds of the in-process alert rules (rates are fractions: 0.1 = 10 %).</summary>
    public sealed class RulesOptions
    {
        /// <summary>The sliding window the rates and averages are taken over.</summary>
        [Range(10, 86_400)]
        public int WindowSeconds { get; set; } = 300;

        /// <summary>A rate rule fires only with at least this many samples in the window, to avoid noise.</summary>
        [Range(1, 1_000_000)]
        public int MinSamples { get; set; } = 20;

        /// <summary>How often the window is re-evaluated when no new events arrive (so rules resolve as it slides).</summary>
        [Range(1, 3600)]
        public int EvaluationIntervalSeconds { get; set; } = 15;

        /// <summary>Share of search tools (browser_navigate, browser_extract, browser_run_task) that time out.</summary>
        [Range(0.0, 1.0)]
        public double SearchTimeoutRate { get; set; } = 0.10;

        [Range(0.0, 1.0)]
        public double ExtractionFailureRate { get; set; } = 0.05;

        /// <summary>Average duration of the tool calls that ran (refusals excluded).</summary>
        [Range(0.001, 86_400)]
        public double AverageToolResponseSeconds { get; set; } = 120;

        [Range(0.0, 1.0)]
        public double CleanupFailureRate { get; set; } = 0.02;

        /// <summary>Share of the tool calls that ran (refusals excluded) that ended in an error.</summary>
        [Range(0.0, 1.0)]
        public double ErrorRate { get; set; } = 0.20;
    }

    /// <summary>The daily cost report, an INFO alert with key <c>report:daily:yyyy-MM-dd</c> for the UTC day that ended.</summary>
    public sealed class ReportsOptions
    {
        public bool DailyEnabled { get; set; } = true;

        /// <summary>UTC time of day at which the report for the previous UTC day is sent.</summary>
        public TimeSpan DailyAtUtc { get; set; } = new(0, 5, 0);
    }
}
