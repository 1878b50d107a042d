using System.Collections.Concurrent;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Governance;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Anchor.Orleans.Grains.Tests;

/// <summary>
/// One in-process silo with in-memory "anchor" storage, the governance services, a fake clock, a recording alert
/// sink and a recording session closer, shared by every grain test. Tests take fresh grain keys and move the clock
/// to a fresh UTC month (<see cref="FreshMonthAsync"/>), so ledgers never carry over from another test.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const decimal DailyLimit = 10m;
    public const decimal MonthlyLimit = 100m;
    public const decimal EmergencyShutdown = 8m;
    public const int SessionSlots = 2;
    public const int QueueTimeoutSeconds = 30;

    public static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
    public static readonly RecordingAlertSink Alerts = new();
    public static readonly RecordingSessionCloser Closer = new();

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    /// <summary>The silo's services (admission, session budget, the emergency view).</summary>
    public IServiceProvider Silo => ((InProcessSiloHandle)Cluster.Primary!).ServiceProvider;

    public T Service<T>()
        where T : notnull => Silo.GetRequiredService<T>();

    public async ValueTask InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Moves the clock to 10:00 UTC on the 1st of the next month and refreshes the silo's switch view.</summary>
    public async Task<DateTimeOffset> FreshMonthAsync()
    {
        var now = Time.GetUtcNow();
        var next = new DateTimeOffset(now.Year, now.Month, 1, 10, 0, 0, TimeSpan.Zero).AddMonths(1);
        Time.SetUtcNow(next);
        await Service<EmergencyStopView>().RefreshAsync();
        return next;
    }

    /// <summary>Moves the clock forward and refreshes the switch view (which would otherwise go stale on fake time).</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await Service<EmergencyStopView>().RefreshAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator, IHostConfigurator
    {
        public void Configure(IHostBuilder hostBuilder) =>
            hostBuilder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Anchor:Budget:DailyLimitUsd"] = DailyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Anchor:Budget:MonthlyLimitUsd"] = MonthlyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Anchor:Budget:EmergencyShutdownUsd"] = EmergencyShutdown.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Anchor:Clients:month-capped:Budget:MonthlyLimitUsd"] = "0.5",
                ["Anchor:Clients:day-capped:Budget:DailyLimitUsd"] = "1",
                ["Anchor:Sessions:MaxConcurrent"] = SessionSlots.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Anchor:Sessions:MaxPerClient"] = SessionSlots.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Anchor:Sessions:QueueTimeoutSeconds"] = QueueTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                // No refusals for load: the suite's two busy cores would trip a 90 % threshold at random.
                ["Anchor:Sessions:MaxCpuPercent"] = "100",
                ["Anchor:Sessions:MaxMemoryPercent"] = "100",
            }));

        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(OrleansHostingExtensions.StorageName);
            var services = siloBuilder.Services;
            // Grain timers and our services run on the fake clock; Orleans' own maintenance stays on real time.
            services.AddSingleton<TimeProvider>(Time);
            services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            services.AddSingleton<IAlertSink>(Alerts);
            services.AddSingleton<IEmergencySessionCloser>(Closer);
            services.AddAnchorGrainOptions();
            services.AddClientPolicies();
            services.AddAnchorGovernance();
            // What the session registry needs besides governance: its metrics and the timeline it writes the end of a
            // lost session to (no browser, no sweeper).
            services.AddSingleton<Grains.Timeline.ISessionTimeline, Grains.Timeline.MemorySessionTimeline>();
            services.AddMetrics();
            services.AddSingleton<Operations.OperationsCollector>();
            services.AddSingleton<Alerts.Rules.AlertRules>();
            services.AddSingleton<Telemetry.AnchorMetrics>();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>Every alert raised, in order.</summary>
public sealed class RecordingAlertSink : IAlertSink
{
    private readonly ConcurrentQueue<Alert> _alerts = new();

    public IReadOnlyList<Alert> With(string keyPrefix) => [.. _alerts.Where(a => a.Key.StartsWith(keyPrefix, StringComparison.Ordinal))];

    public Task RaiseAsync(Alert alert, CancellationToken cancellationToken = default)
    {
        _alerts.Enqueue(alert);
        return Task.CompletedTask;
    }
}

/// <summary>Counts the emergency sweeps; can be told to fail, as a registry that is not reachable yet would.</summary>
public sealed class RecordingSessionCloser : IEmergencySessionCloser
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public int FailuresLeft { get; set; }

    public Task<int> CloseAllAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        if (FailuresLeft > 0)
        {
            FailuresLeft--;
            throw new InvalidOperationException("registry unavailable");
        }

        return Task.FromResult(3);
    }
}
