using System.Collections.Concurrent;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Governance;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Persistence;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Anchor.Orleans.Grains.Tests.Persistence;

/// <summary>
/// One in-process silo whose governance grains persist to a real <c>redis-server</c> through
/// <see cref="RedisEntryStateStore"/>, wrapped in <see cref="RecordingEntryStateStore"/> so tests see every write.
/// Budgets are large, so no threshold alert changes a ledger's head while a test measures it.
/// </summary>
public sealed class RedisStorageFixture : IAsyncLifetime
{
    public static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));

    private static string s_connectionString = "";

    public RedisServer Redis { get; } = new();

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public RecordingEntryStateStore Store =>
        (RecordingEntryStateStore)((InProcessSiloHandle)Cluster.Primary!).ServiceProvider.GetRequiredService<IEntryStateStore>();

    public RedisEntryStateStore RedisStore =>
        ((InProcessSiloHandle)Cluster.Primary!).ServiceProvider.GetRequiredService<RedisEntryStateStore>();

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        s_connectionString = Redis.ConnectionString;
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Redis.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator, IHostConfigurator
    {
        public void Configure(IHostBuilder hostBuilder) =>
            hostBuilder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Anchor:Budget:DailyLimitUsd"] = "1000000",
                ["Anchor:Budget:MonthlyLimitUsd"] = "10000000",
                ["Anchor:Budget:EmergencyShutdownUsd"] = "1000000",
            }));

        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(OrleansHostingExtensions.StorageName);
            var services = siloBuilder.Services;
            services.AddSingleton<TimeProvider>(Time);
            services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            services.AddSingleton<IAlertSink>(new RecordingAlertSink());
            services.AddSingleton<IEmergencySessionCloser>(new RecordingSessionCloser());
            services.Configure<AnchorHostingOptions>(o =>
            {
                o.Storage.Provider = StorageProvider.Redis;
                o.Redis.ConnectionString = s_connectionString;
            });
            services.AddSingleton<RedisConnection>();
            services.AddSingleton<RedisEntryStateStore>();
            services.AddSingleton<IEntryStateStore>(sp => new RecordingEntryStateStore(sp.GetRequiredService<RedisEntryStateStore>()));
            services.AddAnchorGrainOptions();
            services.AddClientPolicies();
            services.AddAnchorGovernance();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisStorageCollection : ICollectionFixture<RedisStorageFixture>
{
    public const string Name = "redis-storage";
}

/// <summary>Passes every call to the real store and records each write and read, per grain.</summary>
public sealed class RecordingEntryStateStore(IEntryStateStore inner) : IEntryStateStore
{
    private readonly ConcurrentQueue<(GrainId Grain, EntryStateWrite Write)> _writes = new();
    private readonly ConcurrentQueue<GrainId> _reads = new();

    public IReadOnlyList<EntryStateWrite> WritesOf(GrainId grain) => [.. _writes.Where(w => w.Grain == grain).Select(w => w.Write)];

    public int ReadsOf(GrainId grain) => _reads.Count(r => r == grain);

    public Task<StoredEntryState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken = default)
    {
        _reads.Enqueue(grainId);
        return inner.ReadAsync(stateName, grainId, cancellationToken);
    }

    public async Task<string> WriteAsync(string stateName, GrainId grainId, string? etag, EntryStateWrite write, CancellationToken cancellationToken = default)
    {
        var next = await inner.WriteAsync(stateName, grainId, etag, write, cancellationToken);
        _writes.Enqueue((grainId, write));
        return next;
    }
}
