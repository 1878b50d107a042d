using System.Net;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Hosting;

/// <summary>SIGTERM on the real executable: readiness fails at once, sessions are drained and settled, exit 0, no Chromium left.</summary>
public sealed class GracefulDrainTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Fact]
    public async Task Sigterm_DrainsSessions_AndExitsCleanly()
    {
        await using var silo = SiloProcess.Start(BrowserAppFixture.BaseSettings(("Anchor:Shutdown:DrainSeconds", "6")));
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };
        await Poll.UntilAsync(
            async () => (await http.GetAsync("/health/ready", Ct)).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(90),
            "the silo to become ready");

        var sessions = new List<string>();
        await using (var agent = await McpTestClient.ConnectAsync(silo.BaseAddress, TestKeys.Agent))
        {
            for (var i = 0; i < 2; i++)
            {
                var id = (await agent.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString()!;
                var nav = await agent.CallAsync("browser_navigate", new { url = _site.Url("/form"), session_id = id });
                Assert.True(nav.IsError != true, nav.Text());
                sessions.Add(id);
            }
        }

        var chromium = silo.Descendants("--anchor-instance=");
        Assert.NotEmpty(chromium);

        silo.Terminate();
        var ready = await Poll.UntilAsync(
            async () => (await http.GetAsync("/health/ready", Ct)).StatusCode,
            s => s == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(5),
            "readiness to fail as the drain starts");
        using var exit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        exit.CancelAfter(TimeSpan.FromSeconds(60));
        await silo.Process.WaitForExitAsync(exit.Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
        Assert.Equal(0, silo.Process.ExitCode);
        foreach (var id in sessions)
        {
            Assert.Contains($"Session {id} of {TestKeys.AgentClient} ended (drained), cost ", silo.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Drain done: closed and settled 2 remaining session(s)", silo.Output, StringComparison.Ordinal);
        await Poll.UntilAsync(() => chromium.All(pid => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/cmdline").Length == 0), TimeSpan.FromSeconds(10), "Chromium to be gone");
    }
}
