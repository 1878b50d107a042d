using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Api.Telemetry;

/// <summary>OpenTelemetry export (<c>Anchor:Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>When set, traces and metrics are exported over OTLP to this endpoint.</summary>
    [Url]
    public string? OtlpEndpoint { get; set; }

    /// <summary>Head sampling of traces; unset means 1.0 in Development and 0.01 elsewhere.</summary>
    [Range(0.0, 1.0)]
    public double? TraceSamplingRatio { get; set; }
}

/// <summary>The Prometheus endpoint (<c>Anchor:Metrics</c>).</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>When set, <c>/metrics</c> needs <c>Authorization: Bearer &lt;token&gt;</c>. A secret.</summary>
    public string? Token { get; set; }
}
