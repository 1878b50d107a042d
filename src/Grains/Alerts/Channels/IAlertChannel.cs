using Anchor.Orleans.Grains.Interfaces.Alerts;

namespace Anchor.Orleans.Grains.Alerts.Channels;

/// <summary>One destination for alerts (Slack, Discord, PagerDuty, the generic webhook).</summary>
public interface IAlertChannel
{
    /// <summary>The channel's name in routing, history and metrics (<see cref="AlertChannels"/>).</summary>
    string Name { get; }

    /// <summary>
    /// Delivers <paramref name="entry"/> with retries and a circuit breaker, and says how it went. HTTP failures are
    /// results, not exceptions; only cancellation by <paramref name="cancellationToken"/> throws.
    /// </summary>
    Task<AlertDelivery> SendAsync(AlertEntry entry, CancellationToken cancellationToken);
}
