using System.Diagnostics;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>
/// A silo whose tool calls are limited to 5 s, against pages built to misbehave. When the class ends, every session
/// is closed, no session activation is left behind, and no Chromium process outlives the silo.
/// </summary>
public sealed class HostilePagesFixture : BrowserAppFixture
{
    public const int ActionTimeoutSeconds = 5;
    public const int MaxPages = 4;
    public const long MaxResponseBytes = 8 * 1024 * 1024;

    /// <summary>What "answers in time" means here: the call's limit plus a moment for MCP, HTTP and a loaded machine.</summary>
    public static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(ActionTimeoutSeconds + 4);

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Sessions:ActionTimeoutSeconds", ActionTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Anchor:Browser:MaxPagesPerSession", MaxPages.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Anchor:Browser:MaxResponseBytes", MaxResponseBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Anchor:Clients:agent-b:Sessions:MaxPerClient", "1"));

    public override async ValueTask DisposeAsync()
    {
        var marker = Host.Services.GetRequiredService<BrowserEngine>().InstanceMarker;
        await Host.Services.GetRequiredService<Grains.Sessions.SessionCloser>().CloseAllAsync(Grains.Interfaces.Sessions.SessionEndReason.Operator);
        var left = await Poll.UntilAsync(SessionActivationsAsync, n => n == 0, TimeSpan.FromSeconds(15), "every session activation to be collected");
        await base.DisposeAsync();
        await Poll.UntilAsync(() => Task.FromResult(ChromiumProcesses.WithMarker(marker).Count), n => n == 0, TimeSpan.FromSeconds(20), "every Chromium process of the silo to exit");
        Assert.Equal(0, left);
    }
}

/// <summary>Every call against a misbehaving page answers within the call's limit with the right code; the session goes on.</summary>
public sealed class HostilePageTests(HostilePagesFixture fixture) : IClassFixture<HostilePagesFixture>, IAsyncLifetime
{
    private readonly List<(McpClient Client, string SessionId)> _sessions = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var (client, session) in _sessions)
        {
            await client.CallAsync("browser_session_close", new { session_id = session });
        }
    }

    private async Task<(McpClient Client, string SessionId)> NewSessionAsync(string key = TestKeys.Agent)
    {
        var session = await fixture.OpenSessionAsync(key);
        _sessions.Add(session);
        return session;
    }

    private static async Task<(string Text, bool IsError, TimeSpan Took)> TimedAsync(McpClient client, string tool, object arguments)
    {
        var watch = Stopwatch.StartNew();
        var result = await client.CallAsync(tool, arguments);
        return (result.Text(), result.IsError == true, watch.Elapsed);
    }

    private static void AnsweredInTime(TimeSpan took, string what)
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"{what}: answered in {took.TotalMilliseconds:0} ms");
        Assert.True(took < HostilePagesFixture.AnswerLimit, $"{what} took {took.TotalSeconds:0.0} s, over {HostilePagesFixture.AnswerLimit.TotalSeconds} s");
    }

    private async Task AssertUsableAsync(McpClient client, string session)
    {
        var form = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });
        Assert.True(form.IsError != true, form.Text());
        Assert.True(form.Text().Contains("- Page Title: Greeting form", StringComparison.Ordinal), form.Text()); // The whole answer when it fails (seen once: the title line was not the form's).
        Assert.Contains("- Page URL: " + fixture.Site.Url("/form"), form.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForText_ThatNeverAppears_AnswersTimeout_AndTheSessionStaysUsable()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });

        var (text, isError, took) = await TimedAsync(client, "browser_wait_for", new { text = "Never shown", session_id = session });
        var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });

        Assert.True(isError);
        Assert.StartsWith("timeout: wait_for did not finish within 5 s", text, StringComparison.Ordinal);
        AnsweredInTime(took, "wait_for never-appearing text");
        Assert.True(snapshot.IsError != true, snapshot.Text());
        Assert.Contains("- Page Title: Greeting form", snapshot.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptThatLoopsForever_AnswersTimeout_ReplacesThePage_AndTheSessionStaysUsable()
    {
        var (client, session) = await NewSessionAsync();

        var (text, isError, took) = await TimedAsync(client, "browser_navigate", new { url = fixture.Site.Url("/loop"), session_id = session });
        var extract = await TimedAsync(client, "browser_extract", new { url = fixture.Site.Url("/loop"), item_selector = "body", fields = new { text = "p" }, session_id = session });

        Assert.True(isError);
        Assert.StartsWith("timeout: navigate did not finish within 5 s", text, StringComparison.Ordinal);
        Assert.EndsWith("The page stopped answering and was replaced by a blank page.", text, StringComparison.Ordinal);
        AnsweredInTime(took, "navigate to a looping page");
        Assert.True(extract.IsError);
        Assert.StartsWith("timeout: ", extract.Text, StringComparison.Ordinal);
        AnsweredInTime(extract.Took, "extract on a looping page");
        await AssertUsableAsync(client, session);
    }

    [Fact]
    public async Task ServerThatAnswersAfterTenMinutes_AnswersTimeout_AndTheSessionStaysUsable()
    {
        var (client, session) = await NewSessionAsync();

        var (text, isError, took) = await TimedAsync(client, "browser_navigate", new { url = fixture.Site.Url("/slow?ms=600000"), session_id = session });

        Assert.True(isError);
        Assert.StartsWith("timeout: navigate did not finish within 5 s", text, StringComparison.Ordinal);
        AnsweredInTime(took, "navigate to a 10-minute response");
        await AssertUsableAsync(client, session);
    }

    [Fact]
    public async Task EndlessBody_IsCutOffAtMaxResponseBytes_WhileAnotherClientKeepsWorking()
    {
        var (client, session) = await NewSessionAsync();
        var (other, otherSession) = await NewSessionAsync(TestKeys.OtherAgent);
        await other.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = otherSession });

        var huge = TimedAsync(client, "browser_navigate", new { url = fixture.Site.Url("/huge?mb=200"), session_id = session });
        var otherResults = new List<bool>();
        // At most 40 calls: the navigation now answers at the call's limit (Chromium renders the cut page), and the other
        // client's calls count against its rate limit, which later tests of this class share.
        while (!huge.IsCompleted && otherResults.Count < 40)
        {
            var typed = await other.CallAsync("browser_type", new { target = "#name", text = $"n{otherResults.Count}", session_id = otherSession });
            otherResults.Add(typed.IsError != true);
        }

        var (text, isError, took) = await huge;
        Assert.True(isError);
        // Followed, when Chromium was still laying out the 8 MB it got, by the note that the page was replaced.
        Assert.StartsWith($"browser_error: page exceeded Browser:MaxResponseBytes: the response of {fixture.Site.Url("/huge")} is larger than {HostilePagesFixture.MaxResponseBytes} bytes and was cut off.", text, StringComparison.Ordinal);
        AnsweredInTime(took, "navigate to an endless body");
        Assert.All(otherResults, Assert.True);
        Assert.True((await other.CallAsync("browser_snapshot", new { session_id = otherSession })).IsError != true);
        await AssertUsableAsync(client, session);
    }

    [Fact]
    public async Task PopupLoop_IsBoundedByMaxPagesPerSession_TheCurrentPageStays_AndAnotherClientKeepsWorking()
    {
        var (client, session) = await NewSessionAsync();
        var (other, otherSession) = await NewSessionAsync(TestKeys.OtherAgent);

        var opened = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/popups"), session_id = session });
        var waited = await client.CallAsync("browser_wait_for", new { time = 1, session_id = session });
        var otherForm = await other.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = otherSession });
        var listed = await client.CallAsync("browser_session_list");

        Assert.True(opened.IsError != true, opened.Text());
        Assert.True(waited.IsError != true, waited.Text());
        Assert.Contains("- Page Title: Popups", waited.Text(), StringComparison.Ordinal);
        // Reported with the call during which the first surplus page was closed: the navigation or the wait, as load decides.
        Assert.Contains($"A new page was closed at once: a session holds at most {HostilePagesFixture.MaxPages} pages (Browser:MaxPagesPerSession).", opened.Text() + waited.Text(), StringComparison.Ordinal);
        var mine = listed.Json().GetProperty("sessions").EnumerateArray().Single(s => s.GetProperty("session_id").GetString() == session);
        Assert.Equal(HostilePagesFixture.MaxPages, mine.GetProperty("pages").GetInt32());
        Assert.True(otherForm.IsError != true, otherForm.Text());
        await AssertUsableAsync(client, session);
    }

    [Fact]
    public async Task LinkToANewTab_MakesItTheCurrentPage()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/tab-link"), session_id = session });

        var clicked = await client.CallAsync("browser_click", new { target = "text=open B", session_id = session });

        Assert.True(clicked.IsError != true, clicked.Text());
        Assert.Contains("A new tab opened and is now the current page.", clicked.Text(), StringComparison.Ordinal);
        Assert.Contains("- Page Title: Page B", clicked.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertOnLoad_IsDismissed_AndReportedInTheResult()
    {
        var (client, session) = await NewSessionAsync();

        var (text, isError, took) = await TimedAsync(client, "browser_navigate", new { url = fixture.Site.Url("/alert"), session_id = session });

        Assert.False(isError, text);
        Assert.Contains("The page showed a JavaScript alert dialog (\"Hello from the page\"); it was dismissed.", text, StringComparison.Ordinal);
        Assert.Contains("After the alert", text, StringComparison.Ordinal);
        AnsweredInTime(took, "navigate to a page that alerts on load");
    }

    [Fact]
    public async Task CrashedRenderer_IsReported_AndTheSessionContinuesOnAFreshPage()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        var marker = fixture.Host.Services.GetRequiredService<BrowserEngine>().InstanceMarker;

        foreach (var pid in ChromiumProcesses.TreeOf(marker).Where(IsRenderer))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        var (text, _, took) = await TimedAsync(client, "browser_snapshot", new { session_id = session });
        var after = await TimedAsync(client, "browser_snapshot", new { session_id = session });

        Assert.True(
            text.Contains("The page crashed (its renderer process stopped); the session continues on a fresh blank page", StringComparison.Ordinal)
            || text.StartsWith("browser_error: the page crashed during snapshot", StringComparison.Ordinal),
            text);
        AnsweredInTime(took, "snapshot of a crashed page");
        Assert.False(after.IsError, after.Text);
        await AssertUsableAsync(client, session);
    }

    [Theory]
    [InlineData("refused", "the connection was refused by localhost:")]
    [InlineData("redirect-loop", "too many redirects (net::ERR_TOO_MANY_REDIRECTS)")]
    public async Task FailedNavigation_FailsFast_WithBrowserErrorNamingWhy(string kind, string why)
    {
        var (client, session) = await NewSessionAsync();
        var url = kind switch
        {
            "refused" => $"http://localhost:{FreePorts.Next()}/",
            _ => fixture.Site.Url("/redirect-loop"),
        };

        var (text, isError, took) = await TimedAsync(client, "browser_navigate", new { url, session_id = session });

        Assert.True(isError);
        Assert.StartsWith("browser_error: ", text, StringComparison.Ordinal);
        Assert.Contains(why, text, StringComparison.Ordinal);
        AnsweredInTime(took, $"navigate ({kind})");
        await AssertUsableAsync(client, session);
    }

    [Fact]
    public async Task UnresolvableName_IsRefusedAtOnce_WithUrlBlocked()
    {
        var (client, session) = await NewSessionAsync();

        var (text, isError, took) = await TimedAsync(client, "browser_navigate", new { url = "http://no-such-host.invalid/", session_id = session });

        Assert.True(isError);
        Assert.Equal("url_blocked: http://no-such-host.invalid/ refused: host 'no-such-host.invalid' is a special-use name (.invalid) that never names a public site.", text);
        AnsweredInTime(took, "navigate (unresolvable name)");
        await AssertUsableAsync(client, session);
    }

    [Fact]
    public async Task CookiesSetByANavigation_AreSentWithTheNext()
    {
        var (client, session) = await NewSessionAsync();

        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/set-cookie"), session_id = session });
        var shown = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/cookie"), session_id = session });

        Assert.Contains("Cookie: flavour=oat", shown.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownSessionsAndRefusedCreates_LeaveNoActivations()
    {
        var client = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var before = await fixture.SessionActivationsAsync();

        var unknown = await client.CallAsync("browser_snapshot", new { session_id = "made-up-session" });
        var closeUnknown = await client.CallAsync("browser_session_close", new { session_id = "another-made-up-session" });
        var first = await client.CallAsync("browser_session_create");
        var refused = await client.CallAsync("browser_session_create");
        await client.CallAsync("browser_session_close", new { session_id = first.Json().GetProperty("session_id").GetString() });

        Assert.StartsWith("session_not_found", unknown.Text(), StringComparison.Ordinal);
        Assert.False(closeUnknown.Json().GetProperty("closed").GetBoolean());
        Assert.StartsWith("concurrency_limit", refused.Text(), StringComparison.Ordinal);
        await Poll.UntilAsync(fixture.SessionActivationsAsync, n => n <= before, TimeSpan.FromSeconds(10), "the activations of unknown, refused and closed sessions to be collected");
    }

    private static bool IsRenderer(int pid) => ChromiumProcesses.TypeOf(pid) == "renderer";
}
