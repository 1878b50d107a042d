using System.Security.Cryptography;
using System.Text;
using Anchor.Orleans.Grains.Browser.Downloads;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>A browser silo and the <see cref="DownloadSite"/>, started before it and stopped after it.</summary>
public abstract class DownloadSiteFixture : BrowserAppFixture
{
    public DownloadSite Downloads { get; } = new();

    protected static string Bytes(long bytes) => bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override async ValueTask InitializeAsync()
    {
        await Downloads.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Downloads.DisposeAsync();
    }
}

/// <summary>
/// A silo with the default download bound (Browser:MaxDownloadBytes 50 MB) whose Browser:MaxResponseBytes (100 MB)
/// lets a 60 MB response through the egress proxy, so the download bound is what refuses it.
/// </summary>
public sealed class DownloadFixture : DownloadSiteFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Browser:MaxResponseBytes", Bytes(100L * 1024 * 1024)),
        ("Anchor:Sessions:ActionTimeoutSeconds", "60"));
}

/// <summary>A silo whose sessions may receive 3 MB a minute (Browser:MaxSessionBytesPerMinute), downloads included.</summary>
public sealed class DownloadBudgetFixture : DownloadSiteFixture
{
    public const long Budget = 3L * 1024 * 1024;

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Browser:MaxSessionBytesPerMinute", Bytes(Budget)),
        ("Anchor:Browser:MaxResponseBytes", Bytes(Budget)),
        ("Anchor:Browser:MaxDownloadBytes", Bytes(Budget)),
        ("Anchor:Sessions:ActionTimeoutSeconds", "20"));
}

/// <summary>
/// <c>/</c>: links to <c>/report.csv</c> (a 2 MB CSV), <c>/export.csv</c> (60 MB) and <c>/elsewhere.csv</c>, which
/// redirects to the same report on 127.0.0.1, a host the egress policy refuses. Every file is an attachment.
/// </summary>
public sealed class DownloadSite : IAsyncDisposable
{
    public const int SmallBytes = 2 * 1024 * 1024;
    public const long LargeBytes = 60L * 1024 * 1024;

    /// <summary>How long <c>/slow.csv</c> waits before it answers.</summary>
    public static readonly TimeSpan SlowAnswer = TimeSpan.FromMilliseconds(800);

    private LoopbackApp? _app;

    /// <summary>The 2 MB CSV: numbered rows, padded to exactly <see cref="SmallBytes"/>.</summary>
    public static byte[] Small { get; } = MakeCsv();

    public int Port => _app!.Port;

    public string Url(string path) => $"http://{FixtureSite.Host}:{Port}{path}";

    public async Task StartAsync() => _app = await LoopbackApp.StartAsync(app =>
    {
        app.MapGet("/", () => Results.Content(
            """
            <!doctype html><title>Downloads</title>
            <a id="small" href="/report.csv">monthly report</a>
            <a id="large" href="/export.csv">full export</a>
            <a id="elsewhere" href="/elsewhere.csv">mirrored report</a>
            <a id="slow" href="/slow.csv">slow report</a>
            """,
            "text/html; charset=utf-8"));
        app.MapGet("/report.csv", (HttpContext http) =>
        {
            http.Response.Headers.ContentDisposition = "attachment; filename=\"report.csv\"";
            return Results.Bytes(Small, "text/csv");
        });
        app.MapGet("/export.csv", async (HttpContext http) =>
        {
            var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcde\n", 64 * 1024)));
            http.Response.ContentType = "text/csv";
            http.Response.Headers.ContentDisposition = "attachment; filename=\"export.csv\"";
            http.Response.ContentLength = LargeBytes;
            for (long sent = 0; sent < LargeBytes; sent += chunk.Length)
            {
                await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
            }
        });
        app.MapGet("/slow.csv", async (HttpContext http) =>
        {
            // A server that thinks before it answers: the download begins well after the mouse click.
            await Task.Delay(SlowAnswer, http.RequestAborted);
            http.Response.Headers.ContentDisposition = "attachment; filename=\"slow.csv\"";
            await Results.Bytes(Small, "text/csv").ExecuteAsync(http);
        });
        app.MapGet("/elsewhere.csv", () => Results.Redirect($"http://127.0.0.1:{Port}/report.csv"));
    });

    private static byte[] MakeCsv()
    {
        var text = new StringBuilder("id,name,amount\n");
        for (var i = 0; text.Length < SmallBytes; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},item {i},{i * 7 % 1000}.{i % 100:00}\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString()[..SmallBytes]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// Downloads, governed, end to end through the MCP SDK client, the egress proxy and Chromium: a clicked download
/// is listed and returned byte for byte, one past Browser:MaxDownloadBytes is refused in words and the session goes
/// on, one the egress policy refuses never lands, and the session's directory goes with the session.
/// </summary>
public sealed class DownloadTests(DownloadFixture fixture) : IClassFixture<DownloadFixture>
{
    private async Task<(McpClient Client, string Session)> OnDownloadPageAsync()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        var page = await client.CallAsync("browser_navigate", new { url = fixture.Downloads.Url("/"), session_id = session });
        Assert.True(page.IsError != true, page.Text());
        return (client, session);
    }

    private static string[] SessionDirectories() =>
        Directory.Exists(SessionDownloads.Root) ? Directory.GetDirectories(SessionDownloads.Root) : [];

    [Fact]
    public async Task ClickedDownload_IsListed_ReturnedByteForByte_AndDeletedWithTheSession()
    {
        var (client, session) = await OnDownloadPageAsync();
        var before = SessionDirectories();

        var clicked = await client.CallAsync("browser_click", new { selector = "#small", session_id = session });
        var fetched = await client.CallAsync("browser_download", new { index = 0, session_id = session });
        var directory = Assert.Single(SessionDirectories().Except(before));
        var held = Assert.Single(Directory.GetFiles(directory));
        var heldBytes = new FileInfo(held).Length;

        Assert.True(clicked.IsError != true, clicked.Text());
        Assert.Contains("### Downloads\n- index 0: report.csv (2097152 bytes, text/csv); fetch it with browser_download { index: 0 }\n", clicked.Text(), StringComparison.Ordinal);
        Assert.True(fetched.IsError != true, fetched.Text());
        var resource = Assert.IsType<BlobResourceContents>(fetched.Content.OfType<EmbeddedResourceBlock>().Single().Resource);
        Assert.Equal("text/csv", resource.MimeType);
        Assert.Equal("anchor://download/0/report.csv", resource.Uri);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(DownloadSite.Small)), Convert.ToHexString(SHA256.HashData(resource.DecodedData.Span)));
        Assert.StartsWith("Download 0: report.csv (2097152 bytes, text/csv).", fetched.Text(), StringComparison.Ordinal);
        Assert.Equal(DownloadSite.SmallBytes, heldBytes);

        var closed = await client.CallAsync("browser_session_close", new { session_id = session });

        Assert.True(closed.IsError != true, closed.Text());
        Assert.False(Directory.Exists(directory), $"{directory} outlived its session");
    }

    [Fact]
    public async Task ClickOnALinkWhoseServerAnswersLate_WaitsForTheDownload_AndListsIt()
    {
        // Playwright's click waits for the navigation it started to commit or turn into a download; this holds it to that.
        var (client, session) = await OnDownloadPageAsync();

        var clicked = await client.CallAsync("browser_click", new { selector = "#slow", session_id = session });

        Assert.True(clicked.IsError != true, clicked.Text());
        Assert.Contains("- index 0: slow.csv (2097152 bytes, text/csv)", clicked.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task DownloadPastTheBound_IsRefusedInWords_AndTheSessionGoesOn()
    {
        var (client, session) = await OnDownloadPageAsync();

        var refused = await client.CallAsync("browser_click", new { selector = "#large", session_id = session });
        var missing = await client.CallAsync("browser_download", new { index = 0, session_id = session });
        var next = await client.CallAsync("browser_click", new { selector = "#small", session_id = session });

        Assert.True(refused.IsError);
        Assert.Equal("browser_error: download exceeds Browser:MaxDownloadBytes (50 MB): export.csv is 62914560 bytes; it was deleted and is not held. The session continues.", refused.Text());
        Assert.True(missing.IsError);
        Assert.Equal("invalid_argument: there is no download 0 in this session (it holds none); downloads are listed in the result of the action that made them and deleted when the session ends or moves.", missing.Text());
        Assert.True(next.IsError != true, next.Text());
        Assert.Contains("- index 0: report.csv (2097152 bytes, text/csv)", next.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task DownloadFromAHostTheEgressPolicyRefuses_IsRefused_AndNothingIsHeld()
    {
        var (client, session) = await OnDownloadPageAsync();

        var navigated = await client.CallAsync("browser_navigate", new { url = fixture.Downloads.Url("/elsewhere.csv"), session_id = session });
        await client.CallAsync("browser_navigate", new { url = fixture.Downloads.Url("/"), session_id = session });
        var clicked = await client.CallAsync("browser_click", new { selector = "#elsewhere", session_id = session });
        var fetched = await client.CallAsync("browser_download", new { index = 0, session_id = session });

        // A click lands on Chromium's error page for the connection the proxy closed unanswered; nothing was downloaded.
        Assert.True(clicked.IsError != true, clicked.Text());
        Assert.Contains("- Page URL: chrome-error://chromewebdata/\n", clicked.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("### Downloads", clicked.Text(), StringComparison.Ordinal);
        Assert.True(navigated.IsError);
        Assert.StartsWith($"url_blocked: http://127.0.0.1:{fixture.Downloads.Port}/report.csv refused:", navigated.Text(), StringComparison.Ordinal);
        Assert.True(fetched.IsError);
        Assert.StartsWith("invalid_argument: there is no download 0 in this session (it holds none)", fetched.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task TaskStepsThatStartDownloads_Complete_AndTheTasksJsonListsThem()
    {
        var (client, session) = await fixture.OpenSessionAsync();

        var ran = await client.CallAsync("browser_run_task", new
        {
            url = fixture.Downloads.Url("/"),
            session_id = session,
            steps = new object[]
            {
                new { action = "click", target = "#small" },
                new { action = "navigate", url = fixture.Downloads.Url("/report.csv") },
            },
        });

        Assert.True(ran.IsError != true, ran.Text());
        Assert.All(ran.Json().GetProperty("steps").EnumerateArray(), s => Assert.True(s.GetProperty("ok").GetBoolean(), s.GetRawText()));
        Assert.Equal(
            """[{"index":0,"name":"report.csv","size":2097152,"type":"text/csv"},{"index":1,"name":"report.csv","size":2097152,"type":"text/csv"}]""",
            ran.Json().GetProperty("downloads").GetRawText());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task NavigationThatStartsADownload_Completes_AndListsIt()
    {
        var (client, session) = await OnDownloadPageAsync();

        var navigated = await client.CallAsync("browser_navigate", new { url = fixture.Downloads.Url("/report.csv"), session_id = session });

        Assert.True(navigated.IsError != true, navigated.Text());
        Assert.Contains("The URL started a download.", navigated.Text(), StringComparison.Ordinal);
        Assert.Contains("- index 0: report.csv (2097152 bytes, text/csv)", navigated.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }
}

/// <summary>A download's bytes pass the egress proxy and count in the session's byte budget like a page's.</summary>
public sealed class DownloadBudgetTests(DownloadBudgetFixture fixture) : IClassFixture<DownloadBudgetFixture>
{
    [Fact]
    public async Task SecondDownloadOf2Megabytes_GoesPastA3MegabyteBudget_AndIsRefusedWithTheBudgetsWords()
    {
        var (client, session) = await fixture.OpenSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Downloads.Url("/"), session_id = session });

        var first = await client.CallAsync("browser_click", new { selector = "#small", session_id = session });
        var second = await client.CallAsync("browser_click", new { selector = "#small", session_id = session });

        Assert.True(first.IsError != true, first.Text());
        Assert.Contains("- index 0: report.csv (2097152 bytes, text/csv)", first.Text(), StringComparison.Ordinal);
        Assert.True(second.IsError);
        Assert.Equal(
            $"browser_error: page exceeded Browser:MaxSessionBytesPerMinute ({DownloadBudgetFixture.Budget} bytes received within a minute); the session's connections were closed and new ones are refused for a minute.",
            second.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }
}
