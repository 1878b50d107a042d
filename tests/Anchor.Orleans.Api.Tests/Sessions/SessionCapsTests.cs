using System.Globalization;
using System.Text.RegularExpressions;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Sessions;

public sealed class CapsAppFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:MaxConcurrent", "2"),
        ("Anchor:Sessions:MaxPerClient", "1"),
        ("Anchor:Sessions:QueueTimeoutSeconds", "0"));
}

/// <summary>Concurrency caps, enforced by the registry grain: two sessions in the cluster, one per client, no queue.</summary>
public sealed class SessionCapsTests(CapsAppFixture fixture) : IClassFixture<CapsAppFixture>
{
    [Fact]
    public async Task Create_RefusesPastThePerClientCap_AndPastTheClusterCap()
    {
        var a = await fixture.ConnectAsync(TestKeys.Agent);
        var b = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var ops = await fixture.ConnectAsync(TestKeys.Operator);

        var a1 = await a.CallAsync("browser_session_create");
        var a2 = await a.CallAsync("browser_session_create");
        var b1 = await b.CallAsync("browser_session_create");
        var ops1 = await ops.CallAsync("browser_session_create");
        var opsDefault = await ops.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a") });

        Assert.True(a1.IsError != true, a1.Text());
        Assert.True(a2.IsError == true);
        Assert.Equal("concurrency_limit: this client has 1 of 1 sessions open; close one (browser_session_close) first.", a2.Text());
        Assert.True(b1.IsError != true, b1.Text());
        Assert.True(ops1.IsError == true);
        // Retry after: until the older session reaches its 300 s maximum, at most.
        const string ClusterFull = @"^concurrency_limit: 2 of 2 browser sessions are open cluster-wide; close one \(browser_session_close\) or retry after (?<s>29[0-9]|300) s\.$";
        var explicitRetry = RetrySeconds(ClusterFull, ops1.Text());
        // The default session's first call meets the same refusal; its wait is counted a moment later, so it may be a second shorter.
        var defaultRetry = RetrySeconds(ClusterFull, opsDefault.Text());
        Assert.InRange(defaultRetry, explicitRetry - 1, explicitRetry);

        // Closing frees the slot at once.
        await a.CallAsync("browser_session_close", new { session_id = a1.Json().GetProperty("session_id").GetString() });
        var opsAfter = await ops.CallAsync("browser_session_create");
        Assert.True(opsAfter.IsError != true, opsAfter.Text());

        await b.CallAsync("browser_session_close", new { session_id = b1.Json().GetProperty("session_id").GetString() });
        await ops.CallAsync("browser_session_close", new { session_id = opsAfter.Json().GetProperty("session_id").GetString() });
    }

    private static int RetrySeconds(string pattern, string text)
    {
        var match = Regex.Match(text, pattern);
        Assert.True(match.Success, text);
        return int.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture);
    }
}
