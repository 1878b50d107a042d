using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Sessions;

public sealed class PerClientHostsAppFixture : BrowserAppFixture
{
    // Only agent-a may visit the fixture pages by their loopback address.
    protected override Dictionary<string, string?> Settings() => BaseSettings(("Anchor:Clients:agent-a:Browser:AllowedHosts:0", "127.0.0.1"));
}

/// <summary>The extraction cache is cluster-wide, so it must not hand a client records from a URL it may not visit.</summary>
public sealed class ExtractCachePolicyTests(PerClientHostsAppFixture fixture) : IClassFixture<PerClientHostsAppFixture>
{
    [Fact]
    public async Task CachedRecords_AreServedOnlyToClientsAllowedToVisitTheUrl()
    {
        var allowed = await fixture.ConnectAsync(TestKeys.Agent);
        var other = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var url = $"http://127.0.0.1:{fixture.Site.Port}/list";
        var request = new { url, item_selector = "li.item", fields = new Dictionary<string, string> { ["name"] = "h2" } };

        var first = await allowed.CallAsync("browser_extract", request);
        var refused = await other.CallAsync("browser_extract", request);
        var cached = await allowed.CallAsync("browser_extract", request);

        Assert.True(first.IsError != true, first.Text());
        Assert.True(refused.IsError == true);
        Assert.Equal($"url_blocked: {url} refused: host '127.0.0.1' resolves to a loopback address (127.0.0.1).", refused.Text());
        Assert.True(cached.Json().GetProperty("cached").GetBoolean());
        await allowed.CallAsync("browser_close");
    }
}
