using System.Threading.Channels;
using Anchor.Orleans.Grains.Alerts.Channels;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>
/// Delivers accepted alerts from this silo. Each channel has its own queue and worker (a lane), so a channel that
/// fails or hangs delays only its own later alerts, never another channel's; within a lane order is kept, so a
/// PagerDuty trigger always goes before its resolve. Outcomes go back to the alert grain through one recorder, off
/// the lanes, so a slow grain call never holds a delivery. <see cref="Enqueue"/> only writes to in-memory queues:
/// it is safe to call from a grain's turn and never runs delivery on that grain's scheduler.
/// </summary>
public sealed partial class AlertDispatcher : BackgroundService
{
    /// <summary>Alerts waiting per channel; past this the oldest is dropped and recorded as failed.</summary>
    public const int LaneCapacity = 1000;

    private static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, Lane> _lanes;
    private readonly Channel<(AlertEntry Entry, AlertDelivery Result)> _outcomes =
        Channel.CreateUnbounded<(AlertEntry, AlertDelivery)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly IGrainFactory _grains;
    private readonly AnchorMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertDispatcher> _logger;

    public AlertDispatcher(IEnumerable<IAlertChannel> channels, IGrainFactory grains, AnchorMetrics metrics, TimeProvider time, ILogger<AlertDispatcher> logger)
    {
        _grains = grains;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _lanes = channels.ToDictionary(c => c.Name, c => new Lane(c, Channel.CreateBounded<AlertEntry>(
            new BoundedChannelOptions(LaneCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped => Report(dropped, Failed(c.Name, "queue_full")))));
    }

    /// <summary>Queues <paramref name="entry"/> on the lane of every channel it lists.</summary>
    public void Enqueue(AlertEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        foreach (var delivery in entry.Deliveries)
        {
            if (!_lanes.TryGetValue(delivery.Channel, out var lane))
            {
                Report(entry, Failed(delivery.Channel, "unknown_channel"));
            }
            else if (!lane.Queue.Writer.TryWrite(entry))
            {
                Report(entry, Failed(delivery.Channel, "shutting_down"));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recorder = RecordOutcomesAsync();
        try
        {
            await Task.WhenAll(_lanes.Values.Select(lane => RunLaneAsync(lane, stoppingToken)));
        }
        finally
        {
            // Lanes are done (stopping): let the recorder write what they reported, then end.
            _outcomes.Writer.TryComplete();
            await recorder;
        }
    }

    private async Task RunLaneAsync(Lane lane, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var entry in lane.Queue.Reader.ReadAllAsync(stoppingToken))
            {
                AlertDelivery result;
                try
                {
                    result = await lane.Channel.SendAsync(entry, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    Report(entry, Failed(lane.Channel.Name, "shutting_down"));
                    break;
                }
                catch (Exception ex)
                {
                    // Channels report HTTP failures as results; anything else is a bug, logged with its cause (redacted).
                    LogChannelError(_logger, lane.Channel.Name, entry.Id, ex);
                    result = Failed(lane.Channel.Name, "internal_error");
                }

                Report(entry, result);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lane.Queue.Writer.TryComplete();
        }
    }

    private async Task RecordOutcomesAsync()
    {
        // Not cancelled by stopping: outcomes reported while the lanes wind down are still recorded (each bounded).
        await foreach (var (entry, result) in _outcomes.Reader.ReadAllAsync(CancellationToken.None))
        {
            var severity = AlertRouting.Label(entry.Severity);
            var outcome = result.Outcome == AlertDeliveryOutcome.Delivered ? "delivered" : "failed";
            _metrics.Alert(severity, result.Channel, outcome);
            if (result.Outcome == AlertDeliveryOutcome.Delivered)
            {
                LogDelivered(_logger, entry.Id, entry.Key, result.Channel, result.Attempts);
            }
            else
            {
                LogFailed(_logger, entry.Id, entry.Key, result.Channel, result.Attempts, result.StatusCode, result.Error ?? "");
            }

            try
            {
                await _grains.GetGrain<IAlertGrain>(0).RecordDeliveryAsync(entry.Id, result).WaitAsync(RecordTimeout);
            }
            catch (Exception ex)
            {
                LogRecordFailed(_logger, entry.Id, result.Channel, ex);
            }
        }
    }

    private void Report(AlertEntry entry, AlertDelivery result) => _outcomes.Writer.TryWrite((entry, result));

    private AlertDelivery Failed(string channel, string error) =>
        new(channel, AlertDeliveryOutcome.Failed, 0, null, error, _time.GetUtcNow());

    private sealed record Lane(IAlertChannel Channel, Channel<AlertEntry> Queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertId} {Key} delivered to {Channel} after {Attempts} attempts")]
    private static partial void LogDelivered(ILogger logger, long alertId, string key, string channel, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {AlertId} {Key} not delivered to {Channel} after {Attempts} attempts: status {StatusCode} {Error}")]
    private static partial void LogFailed(ILogger logger, long alertId, string key, string channel, int attempts, int? statusCode, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert channel {Channel} threw delivering alert {AlertId}")]
    private static partial void LogChannelError(ILogger logger, string channel, long alertId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery outcome of alert {AlertId} to {Channel} could not be recorded")]
    private static partial void LogRecordFailed(ILogger logger, long alertId, string channel, Exception exception);
}
