using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Alerts;

/// <summary>Counts <c>anchor.alerts</c> (Prometheus <c>anchor_alerts_total</c>) of one host, by severity/channel/outcome.</summary>
public sealed class AlertMetricsListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public AlertMetricsListener(AnchorAppHost host)
    {
        // Only this host's meter: other hosts in this process publish instruments with the same names.
        var meter = host.Services.GetRequiredService<AnchorMetrics>().Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "anchor.alerts")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? severity = null, channel = null, outcome = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "severity": severity = tag.Value as string; break;
                    case "channel": channel = tag.Value as string; break;
                    case "outcome": outcome = tag.Value as string; break;
                }
            }

            _counts.AddOrUpdate($"{severity}/{channel}/{outcome}", value, (_, total) => total + value);
        });
        _listener.Start();
    }

    /// <summary>Counts keyed <c>severity/channel/outcome</c>, e.g. <c>warning/slack/delivered</c>.</summary>
    public IReadOnlyDictionary<string, long> Counts => new SortedDictionary<string, long>(_counts, StringComparer.Ordinal);

    public void Dispose() => _listener.Dispose();
}
