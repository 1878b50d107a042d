using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions.Load;

/// <summary>
/// This silo's load and its cached view of the cluster's: every <see cref="Period"/> it samples its process tree,
/// reports to the <see cref="ISiloLoadBoardGrain"/> and keeps the board it gets back, so placement and admission read
/// memory only. Also the gauges <c>anchor_silo_cpu_ratio</c> and <c>anchor_silo_memory_ratio</c>.
/// </summary>
public sealed partial class SiloLoads : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>What a refused caller is told to wait: a few samples, so a passing spike has time to show.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    private readonly SiloLoadSampler _sampler;
    private readonly LocalSessions _local;
    private readonly IOptionsMonitor<SessionsOptions> _options;
    private readonly IGrainFactory _grains;
    private readonly ILocalSiloDetails _silo;
    private readonly TimeProvider _time;
    private readonly ILogger<SiloLoads> _logger;
    private readonly ConcurrentDictionary<SiloAddress, int> _placedSinceRefresh = new();
    private volatile SiloLoad? _here;
    private volatile IReadOnlyDictionary<SiloAddress, SiloLoad> _cluster = new Dictionary<SiloAddress, SiloLoad>();
    private long _clusterAt; // TimeProvider timestamp of the last board read.

    public SiloLoads(
        SiloLoadSampler sampler,
        LocalSessions local,
        IOptionsMonitor<SessionsOptions> options,
        IGrainFactory grains,
        ILocalSiloDetails silo,
        IMeterFactory meters,
        TimeProvider time,
        ILogger<SiloLoads> logger)
    {
        _sampler = sampler;
        _local = local;
        _options = options;
        _grains = grains;
        _silo = silo;
        _time = time;
        _logger = logger;
        AnchorMetrics.SiloLoadGauges(meters, () => _here is { } h ? h.CpuRatio : null, () => _here is { } h ? h.MemoryRatio : null);
    }

    /// <summary>This silo's latest sample; null until two readings were taken (or where there is no /proc).</summary>
    public SiloLoad? Here => _here;

    /// <summary>
    /// The recent load of every silo that reported (this one as just sampled), with sessions placed there from here
    /// since the board was read added to its count: so a burst of new sessions spreads instead of piling on one silo.
    /// </summary>
    public IReadOnlyDictionary<SiloAddress, SiloLoad> Cluster()
    {
        // A board not read for as long as the board itself keeps a report is no longer news: only this silo is known.
        var fresh = _time.GetElapsedTime(Interlocked.Read(ref _clusterAt)) <= SiloLoadBoardGrain.Expiry;
        var view = fresh ? new Dictionary<SiloAddress, SiloLoad>(_cluster) : [];
        if (_here is { } here)
        {
            view[here.Silo] = here;
        }

        foreach (var (silo, placed) in _placedSinceRefresh)
        {
            if (view.TryGetValue(silo, out var load))
            {
                view[silo] = load with { Sessions = load.Sessions + placed };
            }
        }

        return view;
    }

    /// <summary>Notes that placement sent a new session to <paramref name="silo"/> (until the next refresh).</summary>
    public void Placed(SiloAddress silo) => _placedSinceRefresh.AddOrUpdate(silo, 1, (_, n) => n + 1);

    /// <summary>
    /// The refusal for a new session here while this silo is above a threshold (placement sends one here then only when
    /// every silo is), null while it is under or its load is unknown.
    /// </summary>
    public LoadRefusal? Refusal() => _here is { } here ? Refusal(here, _options.CurrentValue) : null;

    /// <summary>The refusal text for <paramref name="load"/> against <paramref name="options"/>: the figure, the key and when to retry.</summary>
    public static LoadRefusal? Refusal(SiloLoad load, SessionsOptions options)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(options);
        var (resource, figure, percent, limit, key) = Above(load.CpuRatio, options.MaxCpuPercent)
            ? ("cpu", "CPU", Percent(load.CpuRatio), options.MaxCpuPercent, "Anchor:Sessions:MaxCpuPercent")
            : Above(load.MemoryRatio, options.MaxMemoryPercent)
                ? ("memory", "memory", Percent(load.MemoryRatio), options.MaxMemoryPercent, "Anchor:Sessions:MaxMemoryPercent")
                : default;
        return key is null
            ? null
            : new LoadRefusal(resource, new AnchorException(
                ErrorCodes.ConcurrencyLimit,
                string.Create(CultureInfo.InvariantCulture, $"this silo's {figure} is at {percent:0.#} % of what it may use, above {key} ({limit} %), so it opens no new session; retry after {(int)RetryAfter.TotalSeconds} s (new sessions go to the least loaded silo)."),
                RetryAfter));
    }

    /// <summary>Whether <paramref name="cpuRatio"/> or <paramref name="memoryRatio"/> is above its threshold in <paramref name="options"/>.</summary>
    public static bool IsOver(double cpuRatio, double memoryRatio, SessionsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Above(cpuRatio, options.MaxCpuPercent) || Above(memoryRatio, options.MaxMemoryPercent);
    }

    /// <summary>Whether <paramref name="ratio"/> is above <paramref name="percent"/>; 100 turns the check off (a 2 s sample may read a hair over all it may use).</summary>
    private static bool Above(double ratio, int percent) => percent < 100 && Percent(ratio) > percent;

    /// <summary>A ratio as a percentage to one decimal, the precision the refusal shows, so the text never contradicts the decision.</summary>
    private static double Percent(double ratio) => Math.Round(ratio * 100, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, _time);
        try
        {
            do
            {
                await RefreshAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Samples this silo, reports it and keeps the board (the last board is kept when the report fails).</summary>
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_sampler.Sample() is not { } figures)
        {
            return;
        }

        var options = _options.CurrentValue;
        var here = new SiloLoad(_silo.SiloAddress, figures.CpuRatio, figures.MemoryRatio, _local.Count, _local.AcceptingNewSessions, IsOver(figures.CpuRatio, figures.MemoryRatio, options));
        _here = here;
        try
        {
            var board = await _grains.GetGrain<ISiloLoadBoardGrain>(0).ReportAsync(here, cancellationToken).WaitAsync(Period * 2, cancellationToken);
            _cluster = board.ToDictionary(l => l.Silo);
            Interlocked.Exchange(ref _clusterAt, _time.GetTimestamp());
            _placedSinceRefresh.Clear();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The silo is starting or stopping, or the board's silo just went: keep the last board; the next round retries.
            LogReportFailed(_logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reporting this silo's load failed")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}

/// <summary>A new session refused for load: the resource over its threshold (<c>cpu</c>, <c>memory</c>) and what the caller is told.</summary>
public sealed record LoadRefusal(string Resource, AnchorException Error);
