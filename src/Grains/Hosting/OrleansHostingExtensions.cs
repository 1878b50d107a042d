using System.Net;
using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Governance;
using Anchor.Orleans.Grains.Live;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Grains.Recording;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Anchor.Orleans.Grains.Hosting;

public static class OrleansHostingExtensions
{
    /// <summary>The grain storage every Anchor grain persists to (in memory or Redis).</summary>
    /// <summary>The grain directory browser sessions register in (strongly consistent).</summary>
    public const string SessionDirectoryName = "sessions";

    public const string StorageName = "anchor";

    /// <summary>
    /// Hosts an Orleans silo in this process: localhost clustering and in-memory storage by default,
    /// Redis membership and storage when configured, Kubernetes hosting when running in a pod.
    /// </summary>
    public static IHostApplicationBuilder AddAnchorOrleans(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // Read once at build time: the silo's shape must be known before the host starts.
        var hosting = builder.Configuration.GetSection(OptionsRegistration.Root).Get<AnchorHostingOptions>() ?? new();
        services.AddAnchorOptions<AnchorHostingOptions>("");
        services.AddSingleton<IValidateOptions<AnchorHostingOptions>, AnchorHostingOptionsValidator>();
        services.AddAnchorGrainOptions();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<RedisConnection>();
        if (hosting.Storage.Provider == StorageProvider.Redis && RedisConnectionStrings.TryParse(hosting.Redis.ConnectionString, out _))
        {
            // Governance grains write their totals and changed records only; the rest of the state stays in "anchor".
            services.AddSingleton<Persistence.IEntryStateStore, Persistence.RedisEntryStateStore>();
        }

        services.AddAnchorTimeline(hosting);

        // Grain-call spans cost every grain call (an Activity, its trace context carried in the request context): about
        // a third of admissions per second on two cores (bench/results). Made where someone can see them: when traces
        // are exported over OTLP, and in Development (every span, for in-process listeners and debugging).
        var grainSpans = builder.Environment.IsDevelopment() || !string.IsNullOrEmpty(AnchorTracing.OtlpEndpoint(builder.Configuration));
        builder.UseOrleans(silo => ConfigureSilo(silo, hosting, grainSpans));

        // Registered after the silo, so their hosted services stop before it and can still reach grains.
        services.AddClientPolicies();
        services.AddAnchorSessions();
        services.AddAnchorRecording();
        services.AddAnchorLiveGrains();
        services.AddAnchorGovernance();
        services.AddAnchorAlerts();
        services.AddAnchorProfiles(builder.Configuration);
        // Reads the ledgers on a timer: part of a running silo, not of the governance grains themselves.
        services.AddHostedService<Telemetry.GovernanceMetrics>();

        // Grain calls keep Orleans' default response timeout; those that run a browser action, or wait behind one, carry
        // their own ([ResponseTimeout(ActionCallTimeout.Value)] on IBrowserSessionGrain).

        // Stopping must outlast the drain, then closing sessions, leaving the cluster and closing Chromium.
        var drain = Math.Clamp(builder.Configuration.GetValue($"{OptionsRegistration.Root}:{ShutdownOptions.SectionName}:DrainSeconds", 30), 0, 3600);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(drain + 30));
        return builder;
    }

    private static void ConfigureSilo(ISiloBuilder silo, AnchorHostingOptions hosting, bool grainSpans)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = hosting.Cluster.ClusterId;
            o.ServiceId = hosting.Cluster.ServiceId;
        });

        var redisValid = RedisConnectionStrings.TryParse(hosting.Redis.ConnectionString, out _);
        if (hosting.Clustering.Provider == ClusteringProvider.Redis && redisValid)
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = RedisConnectionStrings.Parse(hosting.Redis.ConnectionString));
            if (KubernetesEnvironment.IsPod)
            {
                // Endpoints from POD_IP, cluster ids from ORLEANS_* and removal of deleted pods' silos.
                silo.UseKubernetesHosting();
            }
            else
            {
                silo.ConfigureEndpoints(
                    AdvertisedAddress(hosting.Cluster.AdvertisedIPAddress),
                    hosting.Cluster.SiloPort,
                    hosting.Cluster.GatewayPort,
                    listenOnAnyHostAddress: hosting.Cluster.AdvertisedIPAddress is not null);
            }
        }
        else
        {
            // Invalid Redis settings fall through to here and are reported by validation before the silo starts.
            silo.UseLocalhostClustering(hosting.Cluster.SiloPort, hosting.Cluster.GatewayPort, serviceId: hosting.Cluster.ServiceId, clusterId: hosting.Cluster.ClusterId);
        }

        if (hosting.Storage.Provider == StorageProvider.Redis && redisValid)
        {
            silo.AddRedisGrainStorage(StorageName, o =>
            {
                o.ConfigurationOptions = RedisConnectionStrings.Parse(hosting.Redis.ConnectionString);
                // A cleared state (an ended session's checkpoint, a closed MCP session) leaves no key behind.
                o.DeleteStateOnClear = true;
            });
        }
        else
        {
            silo.AddMemoryGrainStorage(StorageName);
        }

        // Browser sessions keep one activation through membership changes: with the default, eventually consistent
        // directory, a silo leaving hands its directory partition over, and a call in that window could create a
        // second, empty activation of a live session whose registration then deactivated the real one (its browser
        // lost). The strongly consistent directory (Orleans' opt-in, experimental) closes that window.
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory(SessionDirectoryName);
#pragma warning restore ORLEANSEXP003
        if (grainSpans)
        {
            silo.AddActivityPropagation();
        }

        silo.AddDashboard();
    }

    private static IPAddress AdvertisedAddress(string? configured) =>
        configured is { Length: > 0 } ? IPAddress.Parse(configured)
        : Environment.GetEnvironmentVariable("POD_IP") is { Length: > 0 } podIp ? IPAddress.Parse(podIp)
        : IPAddress.Loopback;
}

/// <summary>Whether this process runs in a Kubernetes pod with the downward-API variables Orleans needs.</summary>
public static class KubernetesEnvironment
{
    public static bool IsPod =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"))
        && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POD_NAME"));
}
