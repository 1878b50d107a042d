using System.Diagnostics.Metrics;
using Anchor.Orleans.Grains.Telemetry;

namespace Anchor.Orleans.Grains.Live;

/// <summary>
/// The live view's instruments on the service's meter: <c>anchor_live_viewers</c>, <c>anchor_handoffs_total{outcome}</c>
/// and <c>anchor_live_frame_lag_seconds</c> (frame captured → sent to the viewer). Never a link, session or client as a label.
/// </summary>
public sealed class LiveMetrics
{
    private readonly UpDownCounter<long> _viewers;
    private readonly Counter<long> _handoffs;
    private readonly Histogram<double> _lag;

    public LiveMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(AnchorMetrics.MeterName);
        _viewers = meter.CreateUpDownCounter<long>("anchor.live.viewers", description: "People watching a session live on this silo's sessions.");
        _handoffs = meter.CreateCounter<long>("anchor.handoffs", description: "Hand-offs to a person, by outcome (completed, expired, cancelled).");
        _lag = meter.CreateHistogram<double>("anchor.live.frame.lag", unit: "s", description: "From a frame's capture to its sending to the viewer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
    }

    public void ViewerJoined() => _viewers.Add(1);

    public void ViewerLeft() => _viewers.Add(-1);

    public void Handoff(string outcome) => _handoffs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void FrameLag(TimeSpan lag) => _lag.Record(Math.Max(0, lag.TotalSeconds));
}
