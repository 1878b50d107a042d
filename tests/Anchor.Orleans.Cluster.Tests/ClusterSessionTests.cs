using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>Two silos on real Redis: a session is a grain reachable from any silo, and moves to the other when its silo stops.</summary>
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
    public async Task Session_OpenedThroughOneSilo_IsUsedThroughTheOther_AndMovesWhenItsSiloStops()
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

        // The silo holding the browser leaves (a graceful stop drains it): the session moves to the survivor, rebuilt
        // from its checkpoint on the page it was on, and says so once.
        await agentOnFirst.DisposeAsync();
        await first.DisposeAsync();
        var after = await agentOnSecond.CallAsync("browser_snapshot", new { session_id = session });
        var again = await agentOnSecond.CallAsync("browser_snapshot", new { session_id = session });
        var listed = await agentOnSecond.CallAsync("browser_session_list");
        var moved = await second.Services.GetRequiredService<IGrainFactory>().GetGrain<IBrowserSessionGrain>(session).GetInfoAsync(null);

        Assert.True(after.IsError != true, after.Text());
        Assert.StartsWith("### Session restored\nThis session moved to another silo (its silo was shut down)", after.Text(), StringComparison.Ordinal);
        Assert.Contains($"- Page URL: {_site.Url("/form")}", after.Text(), StringComparison.Ordinal);
        Assert.Equal("drained", after.Meta!["anchor/restored"]!["reason"]!.GetValue<string>());
        Assert.DoesNotContain("Session restored", again.Text(), StringComparison.Ordinal);
        Assert.Null(again.Meta!["anchor/restored"]);
        Assert.Equal(session, Assert.Single(listed.Json().GetProperty("sessions").EnumerateArray()).GetProperty("session_id").GetString());
        Assert.Equal(second.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString(), moved!.Silo);
        await agentOnSecond.CallAsync("browser_session_close", new { session_id = session });
    }
}
