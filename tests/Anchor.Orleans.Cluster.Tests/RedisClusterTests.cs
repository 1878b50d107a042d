using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>Redis mode: two silos, as Production runs them, form one cluster through a real redis-server.</summary>
public sealed class RedisClusterTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoSilos_FormOneCluster_ThroughRedis()
    {
        var settings = TestKeys.Settings();
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, $"test-{Guid.NewGuid():N}"))
        {
            settings[key] = value;
        }

        await using var first = await AnchorAppHost.StartAsync(settings, "Production");
        await using var second = await AnchorAppHost.StartAsync(settings, "Production");

        foreach (var host in new[] { first, second })
        {
            var silos = await Poll.UntilAsync(
                async () => (await host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/status", Ct)).GetProperty("silos").GetInt32(),
                n => n == 2,
                TimeSpan.FromSeconds(60),
                "both silos to see a two-silo cluster");
            Assert.Equal(2, silos);

            using var health = await host.CreateClient(TestKeys.Operator).GetAsync("/health", Ct);
            var body = await health.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Redis", body.GetProperty("checks").GetProperty("storage").GetProperty("data").GetProperty("provider").GetString());
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
        }
    }
}
