using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>
/// The silo's <see cref="IAlertSink"/>: asks the alert grain to decide, then hands an accepted alert to this silo's
/// <see cref="AlertDispatcher"/>, so the caller waits for one grain call and never for a webhook. Alerting must not
/// break the feature that raises an alert, so failures are logged (key and severity only), not thrown.
/// </summary>
public sealed partial class GrainAlertSink(
    IGrainFactory grains,
    AlertDispatcher dispatcher,
    ILocalSiloDetails silo,
    ILogger<GrainAlertSink> logger) : IAlertSink
{
    /// <summary>Where alerts raised here come from: host and silo endpoint (PagerDuty's <c>source</c>).</summary>
    public string Source { get; } = $"{silo.DnsHostName}/{silo.SiloAddress.Endpoint}";

    public async Task RaiseAsync(Alert alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        try
        {
            var decision = await grains.GetGrain<IAlertGrain>(0).RaiseAsync(alert, Source, cancellationToken);
            if (decision is { Disposition: AlertDisposition.Accepted, Entry: { } entry })
            {
                dispatcher.Enqueue(entry);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogRaiseFailed(logger, alert.Key, AlertRouting.Label(alert.Severity), ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert {Key} ({Severity}) could not be raised")]
    private static partial void LogRaiseFailed(ILogger logger, string key, string severity, Exception exception);
}
