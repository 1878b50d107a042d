using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// Silo processes on one real Redis (Production mode, as deployed) behind Debian's nginx as a round-robin balancer
/// without affinity. A stopped silo can be replaced by a new process on the same HTTP port (a rolling update).
/// </summary>
public sealed class BalancedCluster : IAsyncDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly Dictionary<string, string?> _settings;

    private BalancedCluster(Dictionary<string, string?> settings, List<int> ports, List<SiloProcess> silos, NginxBalancer nginx)
    {
        _settings = settings;
        Ports = ports;
        Silos = silos;
        Nginx = nginx;
    }

    public IReadOnlyList<int> Ports { get; }

    public List<SiloProcess> Silos { get; }

    public NginxBalancer Nginx { get; }

    public Uri BaseAddress => Nginx.BaseAddress;

    public static async Task<BalancedCluster> StartAsync(RedisServer redis, int silos, params (string Key, string? Value)[] extra)
    {
        var clusterId = $"lb-{Guid.NewGuid():N}";
        var settings = BrowserAppFixture.BaseSettings(extra);
        settings["Anchor:Cluster:ServiceId"] = clusterId;
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        var ports = Enumerable.Range(0, silos).Select(_ => FreePorts.Next()).ToList();
        var processes = ports.Select(port => SiloProcess.Start(settings, "Production", port)).ToList();
        var nginx = await NginxBalancer.StartAsync(ports);
        var cluster = new BalancedCluster(settings, ports, processes, nginx);
        await cluster.WaitForSilosAsync(silos);
        return cluster;
    }

    /// <summary>An HTTP client through the balancer.</summary>
    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>Every live silo ready and seeing <paramref name="count"/> silos in the cluster.</summary>
    public async Task WaitForSilosAsync(int count)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Operator);
        foreach (var silo in Silos.Where(s => !s.Process.HasExited))
        {
            await silo.ReadyInClusterAsync(http, count, TimeSpan.FromSeconds(120), Ct);
        }
    }

    /// <summary>Starts a new silo process on the HTTP port of silo <paramref name="index"/> (which must have exited).</summary>
    public SiloProcess Replace(int index)
    {
        var silo = SiloProcess.Start(_settings, "Production", Ports[index]);
        Silos.Add(silo);
        return silo;
    }

    public async ValueTask DisposeAsync()
    {
        await Nginx.DisposeAsync();
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
    }
}
