using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>Two silos on real Redis: a session is a grain reachable from any silo, and its loss is reported, not hidden.</summary>
public sealed class ClusterSessionTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    private Dictionary<string, string?> Settings(string clusterId)
    {
        var settings = BrowserAppFixture.BaseSettings();
        foreach (var (key, value) in AnchorAppHost.RedisSettings(redis, clusterId))
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task WaitForTwoSilosAsync(AnchorAppHost host) =>
        await Poll.UntilAsync(
            async () => (await host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/status", TestContext.Current.CancellationToken)).GetProperty("silos").GetInt32(),
            n => n == 2,
            TimeSpan.FromSeconds(60),
            "a two-silo cluster");

    [Fact]
    public async Task Session_OpenedThroughOneSilo_IsUsedThroughTheOther_AndReportsItsLoss()
    {
        var settings = Settings($"sessions-{Guid.NewGuid():N}");
        var first = await AnchorAppHost.StartAsync(settings, "Production");
        await using var second = await AnchorAppHost.StartAsync(settings, "Production");
        await WaitForTwoSilosAsync(first);
        await using var agentOnFirst = await McpTestClient.ConnectAsync(first, TestKeys.Agent);
        await using var agentOnSecond = await McpTestClient.ConnectAsync(second, TestKeys.Agent);

        var created = await agentOnFirst.CallAsync("browser_session_create");
        var session = created.Json().GetProperty("session_id").GetString()!;
        var navigated = await agentOnSecond.CallAsync("browser_navigate", new { url = _site.Url("/form"), session_id = session });
        var typed = await agentOnFirst.CallAsync("browser_type", new { target = "#name", text = "Both", session_id = session });
        var clicked = await agentOnSecond.CallAsync("browser_click", new { target = "#greet", session_id = session });
        var info = await second.Services.GetRequiredService<IGrainFactory>().GetGrain<IBrowserSessionGrain>(session).GetInfoAsync(null);

        Assert.True(navigated.IsError != true, navigated.Text());
        Assert.True(typed.IsError != true, typed.Text());
        Assert.Contains("Hello, Both in red", clicked.Text(), StringComparison.Ordinal);
        Assert.Equal(first.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString(), info!.Silo);

        // The silo holding the browser leaves: the session ends and says so through the survivor.
        await agentOnFirst.DisposeAsync();
        await first.DisposeAsync();
        var after = await agentOnSecond.CallAsync("browser_snapshot", new { session_id = session });
        var listed = await agentOnSecond.CallAsync("browser_session_list");

        Assert.True(after.IsError == true);
        Assert.StartsWith($"session_expired: session '{session}' ended at ", after.Text(), StringComparison.Ordinal);
        Assert.Equal(0, listed.Json().GetProperty("sessions").GetArrayLength());
    }
}
