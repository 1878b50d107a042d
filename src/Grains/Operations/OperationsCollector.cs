using Anchor.Orleans.Grains.Interfaces.Operations;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Operations;

/// <summary>
/// This silo's share of the operations counters, accumulated lock-free and flushed to the cluster-wide stats
/// grain every few seconds (and on demand, so a snapshot includes the caller's own silo up to now).
/// </summary>
public sealed partial class OperationsCollector(IGrainFactory grains, TimeProvider time, ILogger<OperationsCollector> logger) : BackgroundService, IHostedLifecycleService
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _flush = new(1, 1);
    private OperationsCounts _pending = OperationsCounts.Zero;

    public void ToolCall(ToolFacts tool, string outcome, TimeSpan duration)
    {
        var search = tool.Search && outcome != "refused";
        Add(OperationsCounts.Zero with
        {
            ToolCalls = 1,
            ToolErrors = outcome == "error" ? 1 : 0,
            ToolRefusals = outcome == "refused" ? 1 : 0,
            SearchesAttempted = search ? 1 : 0,
            SearchesSucceeded = search && outcome == "success" ? 1 : 0,
            SearchesFailed = search && outcome == "error" ? 1 : 0,
            SearchSeconds = search ? duration.TotalSeconds : 0,
        });
    }

    public void Extraction(int records, double completeness) =>
        Add(OperationsCounts.Zero with
        {
            Extractions = 1,
            ExtractionsSucceeded = records > 0 ? 1 : 0,
            CompletenessSum = completeness,
            SearchResults = records,
        });

    public void CacheLookup(bool hit) => Add(OperationsCounts.Zero with { CacheHits = hit ? 1 : 0, CacheMisses = hit ? 0 : 1 });

    /// <summary>Sends what this silo gathered to the stats grain; on failure keeps it for the next flush.</summary>
    public async Task FlushAsync()
    {
        await _flush.WaitAsync();
        try
        {
            OperationsCounts delta;
            lock (_gate)
            {
                delta = _pending;
                _pending = OperationsCounts.Zero;
            }

            try
            {
                await grains.GetGrain<IOperationsStatsGrain>(0).AddAsync(delta);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Add(delta);
                LogFlushFailed(logger, ex);
            }
        }
        finally
        {
            _flush.Release();
        }
    }

    private void Add(OperationsCounts delta)
    {
        lock (_gate)
        {
            _pending = _pending.Add(delta);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The last flush runs before any hosted service stops, while the silo still reaches grains.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => FlushAsync();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Flushing operations counters failed; kept for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
