using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Sessions;

public sealed class PerClientHostsAppFixture : BrowserAppFixture
{
    // Only agent-a may visit the fixture pages by their loopback address.
    protected override Dictionary<string, string?> Settings() => BaseSettings(("Anchor:Clients:agent-a:Browser:AllowedHosts:0", "127.0.0.1"));
}

/// <summary>The extraction cache must not hand a client records from a URL it may not visit, nor another client's records.</summary>
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

    [Fact]
    public async Task CachedRecords_AreNeverServedToAnotherClient_WhoseCookiesDiffer()
    {
        var a = await fixture.ConnectAsync(TestKeys.Agent);
        var b = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var request = new { url = fixture.Site.Url("/cookie"), item_selector = "body", fields = new Dictionary<string, string> { ["cookie"] = "p" } };
        await a.CallAsync("browser_navigate", new { url = fixture.Site.Url("/set-cookie") });

        var fromA = (await a.CallAsync("browser_extract", request)).Json();
        var fromB = (await b.CallAsync("browser_extract", request)).Json();
        var againA = (await a.CallAsync("browser_extract", request)).Json();
        var againB = (await b.CallAsync("browser_extract", request)).Json();

        Assert.Equal(("Cookie: flavour=oat", false), Record(fromA));
        Assert.Equal(("Cookie:", false), Record(fromB));
        Assert.Equal(("Cookie: flavour=oat", true), Record(againA));
        Assert.Equal(("Cookie:", true), Record(againB));
        await a.CallAsync("browser_close");
        await b.CallAsync("browser_close");
    }

    private static (string? Cookie, bool Cached) Record(System.Text.Json.JsonElement result) =>
        (result.GetProperty("records")[0].GetProperty("cookie").GetString(), result.GetProperty("cached").GetBoolean());
}
