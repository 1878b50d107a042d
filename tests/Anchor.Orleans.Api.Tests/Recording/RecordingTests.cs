using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Api.Recording;
using Anchor.Orleans.Grains.Recording;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Recording;

/// <summary>agent-a's sessions are recorded; agent-b's are not (its recording is off by default).</summary>
public class RecordingAppFixture : BrowserAppFixture
{
    protected override Dictionary<string, string?> Settings() => BaseSettings(($"Anchor:Clients:{TestKeys.AgentClient}:Recording", "trace"));

    /// <summary>Opens a session for <paramref name="apiKey"/>, runs a few actions on the fixture pages and closes it.</summary>
    public async Task<string> RecordedSessionAsync(string apiKey)
    {
        var (client, sessionId) = await OpenSessionAsync(apiKey);
        await CallAsync(client, "browser_navigate", new { url = Site.Url("/form"), session_id = sessionId });
        await CallAsync(client, "browser_type", new { target = "#name", text = "Ada Typed", element = "Name box", session_id = sessionId });
        await CallAsync(client, "browser_navigate", new { url = Site.Url("/login"), session_id = sessionId });
        await CallAsync(client, "browser_type", new { target = "input[name=password]", text = "pw-typed-7f3a", element = "Password", session_id = sessionId });
        await CallAsync(client, "browser_close", new { session_id = sessionId });
        return sessionId;
    }

    /// <summary>GET /api/sessions/{sessionId}/trace.zip with <paramref name="apiKey"/>.</summary>
    public Task<HttpResponseMessage> DownloadAsync(string apiKey, string sessionId) =>
        Host.CreateClient(apiKey).GetAsync($"/api/sessions/{sessionId}/trace.zip", TestContext.Current.CancellationToken);

    private static async Task CallAsync(McpClient client, string tool, object arguments)
    {
        var result = await client.CallAsync(tool, arguments);
        Assert.True(result.IsError != true, $"{tool}: {result.Text()}");
    }
}

/// <summary>A cap far below any real trace.</summary>
public sealed class TinyCapRecordingAppFixture : RecordingAppFixture
{
    protected override Dictionary<string, string?> Settings()
    {
        var settings = base.Settings();
        settings["Anchor:Recording:MaxTraceBytes"] = "1024";
        return settings;
    }
}

/// <summary>Opt-in Playwright traces of sessions, downloaded by operators as trace.zip (issue 22).</summary>
public sealed class RecordingTests(RecordingAppFixture fixture) : IClassFixture<RecordingAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task TraceZip_IsAPlaywrightTraceOfTheSession_WhenItsClientRecords()
    {
        var sessionId = await fixture.RecordedSessionAsync(TestKeys.Agent);

        var response = await fixture.DownloadAsync(TestKeys.Operator, sessionId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(["false"], response.Headers.GetValues(RecordingApi.TruncatedHeader));
        using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync(Ct)), ZipArchiveMode.Read);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("trace.trace", names);
        Assert.Contains("trace.network", names);
        Assert.Contains(names, n => n.StartsWith("screencast/", StringComparison.Ordinal) && n.EndsWith(".jpeg", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("resources/", StringComparison.Ordinal));
        var events = Lines(zip, "trace.trace");
        var contextOptions = events.Single(e => e.GetProperty("type").GetString() == "context-options");
        Assert.Equal(sessionId, contextOptions.GetProperty("title").GetString());
        var calls = events.Where(e => e.GetProperty("type").GetString() == "before").ToList();
        Assert.Contains(calls, c => c.GetProperty("method").GetString() == "goto" && c.GetProperty("params").GetProperty("url").GetString() == fixture.Site.Url("/form"));
        Assert.Contains(calls, c => c.GetProperty("method").GetString() == "goto" && c.GetProperty("params").GetProperty("url").GetString() == fixture.Site.Url("/login"));
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "frame-snapshot");
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "screencast-frame");
        var network = Text(zip, "trace.network");
        Assert.Contains(fixture.Site.Url("/form"), network, StringComparison.Ordinal);
        // The egress proxy's per-session credential, which Chromium sends with every request, is hidden.
        Assert.Contains("{\"name\":\"Proxy-Authorization\",\"value\":\"(hidden, ", network, StringComparison.Ordinal);
        Assert.DoesNotContain("Basic ", network, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TraceZip_KeepsWhatWasTyped_InPasswordFieldsToo()
    {
        // Playwright neither masks a fill's value in the action log nor an input's value in DOM snapshots (password
        // fields included): an operator reading a trace sees what the agent typed. The README says so.
        var sessionId = await fixture.RecordedSessionAsync(TestKeys.Agent);

        var trace = await fixture.Host.Services.GetRequiredService<ISessionRecordings>().ReadTraceAsync(sessionId, Ct);

        Assert.NotNull(trace);
        using var zip = new ZipArchive(new MemoryStream(trace.Zip), ZipArchiveMode.Read);
        var events = Text(zip, "trace.trace");
        Assert.Contains("\"value\":\"pw-typed-7f3a\"", events, StringComparison.Ordinal);
        Assert.Contains("\"__playwright_value_\":\"pw-typed-7f3a\"", events, StringComparison.Ordinal);
        Assert.Contains("\"__playwright_value_\":\"Ada Typed\"", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TraceZip_Is404AndNothingIsTraced_WhenTheClientsRecordingIsOff()
    {
        var sessionId = await fixture.RecordedSessionAsync(TestKeys.OtherAgent);

        var response = await fixture.DownloadAsync(TestKeys.Operator, sessionId);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("not_found", problem.GetProperty("type").GetString());
        Assert.Null(await fixture.Host.Services.GetRequiredService<ISessionRecordings>().ReadTraceAsync(sessionId, Ct));
        Assert.DoesNotContain(fixture.Host.Logs.Entries, e => e.Category == typeof(SessionRecorder).FullName && Equals(e.Field("SessionId"), sessionId));
    }

    [Fact]
    public async Task TraceZip_Is403_ForAnAgentKey()
    {
        var sessionId = await fixture.RecordedSessionAsync(TestKeys.Agent);

        var response = await fixture.DownloadAsync(TestKeys.Agent, sessionId);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TraceZip_Is404_ForAnUnknownSession()
    {
        var response = await fixture.DownloadAsync(TestKeys.Operator, "no-such-session");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Start_Fails_WhenAClientsRecordingIsNeitherOffNorTrace()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new() { ["Anchor:Clients:agent-a:Recording"] = "video" });

        Assert.Equal(["Anchor:Clients:agent-a:Recording is 'video': it must be one of off, trace."], failures);
    }

    internal static string Text(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name)!.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static List<JsonElement> Lines(ZipArchive zip, string name) =>
        [.. Text(zip, name).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
}

/// <summary>A trace above Recording:MaxTraceBytes is stored cut, and says so.</summary>
public sealed class RecordingCapTests(TinyCapRecordingAppFixture fixture) : IClassFixture<TinyCapRecordingAppFixture>
{
    [Fact]
    public async Task TraceZip_IsTruncatedWithinTheCap_WhenTheTraceIsLarger()
    {
        var sessionId = await fixture.RecordedSessionAsync(TestKeys.Agent);

        var response = await fixture.DownloadAsync(TestKeys.Operator, sessionId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["true"], response.Headers.GetValues(RecordingApi.TruncatedHeader));
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.InRange(bytes.Length, 1, 1024);
        Assert.DoesNotContain(TraceZip.EntryNames(bytes), n => n.Contains('/', StringComparison.Ordinal));
    }
}
