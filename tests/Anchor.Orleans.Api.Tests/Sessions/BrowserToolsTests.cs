using System.Buffers.Binary;
using System.Text.Json;
using System.Text.RegularExpressions;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>Every browser tool, end to end: MCP SDK client → HTTP → grain → Playwright → Chromium → fixture pages.</summary>
public sealed partial class BrowserToolsTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    private static readonly string[] ExpectedTools =
    [
        "browser_click", "browser_close", "browser_console_messages", "browser_download", "browser_drag", "browser_drop", "browser_emulate_media", "browser_extract", "browser_file_upload",
        "browser_fill_form", "browser_find", "browser_handle_dialog", "browser_handoff", "browser_hover", "browser_navigate", "browser_navigate_back", "browser_network_request", "browser_network_requests",
        "browser_pdf_save", "browser_press_key", "browser_profile_delete", "browser_profile_list", "browser_profile_save", "browser_resize", "browser_run_task", "browser_select_option", "browser_session_close", "browser_session_create", "browser_session_list",
        "browser_snapshot", "browser_tabs", "browser_take_screenshot", "browser_type", "browser_wait_for",
    ];

    private static string RefOf(string snapshot, string role, string name)
    {
        var match = Regex.Match(snapshot, $@"- {role} ""{Regex.Escape(name)}""[^\n]*\[ref=(e[0-9]+)\]");
        Assert.True(match.Success, $"no {role} \"{name}\" with a ref in:\n{snapshot}");
        return match.Groups[1].Value;
    }

    private Task<(McpClient Client, string SessionId)> NewSessionAsync(string key = TestKeys.Agent) => fixture.OpenSessionAsync(key);

    [Fact]
    public async Task ListTools_ExposesEveryBrowserTool_WithDescribedParameters()
    {
        var client = await fixture.ConnectAsync();

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(ExpectedTools, tools.Select(t => t.Name).Where(n => n.StartsWith("browser_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        foreach (var tool in tools)
        {
            Assert.False(string.IsNullOrWhiteSpace(tool.Description), tool.Name);
            foreach (var parameter in tool.JsonSchema.GetProperty("properties").EnumerateObject())
            {
                Assert.True(parameter.Value.TryGetProperty("description", out var d) && d.GetString()!.Length > 5, $"{tool.Name}.{parameter.Name} has no description");
            }
        }
    }

    [Fact]
    public async Task FormFlow_WorksByRefAndBySelector_InANamedSession()
    {
        var (client, session) = await NewSessionAsync();

        var navigated = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });
        var typed = await client.CallAsync("browser_type", new { target = "#name", text = "Ada", element = "Name box", session_id = session });
        var selected = await client.CallAsync("browser_select_option", new { selector = "#color", values = new[] { "blue" }, session_id = session });
        var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });
        var greet = RefOf(snapshot.Text(), "button", "Greet");
        var clicked = await client.CallAsync("browser_click", new { target = greet, element = "Greet button", session_id = session });

        Assert.True(navigated.IsError != true, navigated.Text());
        Assert.Contains("- Page Title: Greeting form", navigated.Text(), StringComparison.Ordinal);
        Assert.True(typed.IsError != true, typed.Text());
        Assert.Contains("Selected blue", selected.Text(), StringComparison.Ordinal);
        Assert.True(clicked.IsError != true, clicked.Text());
        Assert.Contains("Hello, Ada in blue", clicked.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task HoverPressKeyAndWait_WorkWithOlderRefAlias()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });
        var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });
        var box = RefOf(snapshot.Text(), "textbox", "Name");

        var hovered = await client.CallAsync("browser_hover", new { selector = "#tip", session_id = session });
        await client.CallAsync("browser_type", new { @ref = box, text = "Grace", session_id = session });
        var pressed = await client.CallAsync("browser_press_key", new { key = "Enter", session_id = session });
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/later"), session_id = session });
        var waited = await client.CallAsync("browser_wait_for", new { text = "Ready now", session_id = session });

        Assert.Contains("Hovered", hovered.Text(), StringComparison.Ordinal);
        Assert.Contains("Submitted Grace", pressed.Text(), StringComparison.Ordinal);
        Assert.True(waited.IsError != true, waited.Text());
        Assert.Contains("Ready now", waited.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task DefaultSession_IsUsedWithoutSessionId_AndClosedByBrowserClose()
    {
        var client = await fixture.ConnectAsync(TestKeys.OtherAgent);

        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a") });
        await client.CallAsync("browser_click", new { target = "text=to B" });
        var back = await client.CallAsync("browser_navigate_back");
        var listed = await client.CallAsync("browser_session_list");
        var closed = await client.CallAsync("browser_close");
        var after = await client.CallAsync("browser_session_list");

        Assert.Contains($"- Page URL: {fixture.Site.Url("/a")}", back.Text(), StringComparison.Ordinal);
        var sessions = listed.Json().GetProperty("sessions");
        Assert.Equal(1, sessions.GetArrayLength());
        Assert.Equal($"default-{TestKeys.OtherAgentClient}", sessions[0].GetProperty("session_id").GetString());
        Assert.Equal(fixture.Site.Url("/a"), sessions[0].GetProperty("url").GetString());
        Assert.Equal(3, sessions[0].GetProperty("actions").GetInt32());
        Assert.Equal("Browser closed.", closed.Text());
        Assert.Equal(0, after.Json().GetProperty("sessions").GetArrayLength());
    }

    [Fact]
    public async Task Screenshot_ReturnsAPngOfTheViewport()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });

        var shot = await client.CallAsync("browser_take_screenshot", new { session_id = session });
        var element = await client.CallAsync("browser_take_screenshot", new { target = "#greet", session_id = session });

        var png = shot.Content.OfType<ImageContentBlock>().Single();
        Assert.Equal("image/png", png.MimeType);
        var bytes = png.DecodedData.ToArray();
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal(1280, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
        Assert.Equal(800, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
        var small = element.Content.OfType<ImageContentBlock>().Single().DecodedData.ToArray();
        Assert.True(BinaryPrimitives.ReadInt32BigEndian(small.AsSpan(16, 4)) < 1280);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Extract_ReturnsExactRecordsAndCompleteness_ThenServesTheCache()
    {
        var (client, session) = await NewSessionAsync();
        var request = new
        {
            url = fixture.Site.Url("/list"),
            item_selector = "li.item",
            fields = new Dictionary<string, string> { ["name"] = "h2", ["price"] = ".price", ["link"] = "a@href" },
            session_id = session,
        };

        var first = await client.CallAsync("browser_extract", request);
        var second = await client.CallAsync("browser_extract", request);

        Assert.True(first.IsError != true, first.Text());
        var body = first.Json();
        Assert.Equal(
            """[{"name":"Kettle","price":"$25","link":"/p/kettle"},{"name":"Toaster","price":"$40","link":"/p/toaster"},{"name":"Mug","price":null,"link":"/p/mug"}]""",
            body.GetProperty("records").GetRawText());
        Assert.Equal(0.8889, body.GetProperty("completeness").GetDouble());
        Assert.False(body.GetProperty("cached").GetBoolean());
        Assert.True(second.Json().GetProperty("cached").GetBoolean());
        Assert.Equal(body.GetProperty("records").GetRawText(), second.Json().GetProperty("records").GetRawText());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task RunTask_RunsEveryStep_AndStopsAtTheFirstFailure()
    {
        var (client, session) = await NewSessionAsync();

        var ok = await client.CallAsync("browser_run_task", new
        {
            url = fixture.Site.Url("/form"),
            session_id = session,
            steps = new object[]
            {
                new { action = "type", target = "#name", text = "Lin" },
                new { action = "select", target = "#color", values = new[] { "green" } },
                new { action = "click", target = "#greet" },
                new { action = "extract", item_selector = "body", fields = new Dictionary<string, string> { ["greeting"] = "#out" } },
            },
        });
        var failed = await client.CallAsync("browser_run_task", new
        {
            url = fixture.Site.Url("/form"),
            session_id = session,
            steps = new object[]
            {
                new { action = "click", target = "#does-not-exist" },
                new { action = "click", target = "#greet" },
            },
        });

        Assert.True(ok.IsError != true, ok.Text());
        var steps = ok.Json().GetProperty("steps");
        Assert.Equal(["navigate", "type", "select", "click", "extract"], steps.EnumerateArray().Select(s => s.GetProperty("action").GetString()));
        Assert.All(steps.EnumerateArray(), s => Assert.True(s.GetProperty("ok").GetBoolean()));
        Assert.Equal("""[{"greeting":"Hello, Lin in green"}]""", ok.Json().GetProperty("extract").GetProperty("records").GetRawText());
        var failedSteps = failed.Json().GetProperty("steps");
        Assert.Equal(2, failedSteps.GetArrayLength());
        Assert.False(failedSteps[1].GetProperty("ok").GetBoolean());
        Assert.StartsWith("timeout:", failedSteps[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Sessions_AreIsolatedBetweenClients()
    {
        var (owner, session) = await NewSessionAsync(TestKeys.Agent);
        var intruder = await fixture.ConnectAsync(TestKeys.Operator);

        var navigate = await intruder.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        var close = await intruder.CallAsync("browser_session_close", new { session_id = session });
        var intruderList = await intruder.CallAsync("browser_session_list");
        var ownerList = await owner.CallAsync("browser_session_list");

        Assert.True(navigate.IsError == true);
        Assert.StartsWith($"session_not_found: no session '{session}' for this client", navigate.Text(), StringComparison.Ordinal);
        Assert.True(close.IsError == true);
        Assert.StartsWith("session_not_found:", close.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(session, intruderList.Text(), StringComparison.Ordinal);
        Assert.Contains(session, ownerList.Text(), StringComparison.Ordinal);
        await owner.CallAsync("browser_session_close", new { session_id = session });
    }

    [Theory]
    [InlineData("file:///etc/passwd", "url_blocked: file:///etc/passwd refused: the 'file:' scheme is not allowed; only http and https.")]
    [InlineData("chrome://settings", "url_blocked: chrome://settings refused: the 'chrome:' scheme is not allowed; only http and https.")]
    [InlineData("data:text/html,<p>x</p>", "url_blocked: data:text/html,<p>x</p> refused: the 'data:' scheme is not allowed; only http and https.")]
    [InlineData("http://127.0.0.1:9/", "url_blocked: http://127.0.0.1:9/ refused: host '127.0.0.1' resolves to a loopback address (127.0.0.1).")]
    [InlineData("http://10.1.2.3/", "url_blocked: http://10.1.2.3/ refused: host '10.1.2.3' resolves to a private address (10.1.2.3).")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "url_blocked: http://169.254.169.254/latest/meta-data/ refused: host '169.254.169.254' resolves to a cloud metadata address (169.254.169.254).")]
    [InlineData("http://[fe80::1]/", "url_blocked: http://[fe80::1]/ refused: host 'fe80::1' resolves to a link-local address (fe80::1).")]
    public async Task Navigate_RefusesBlockedUrls_WithTheReason(string url, string expected)
    {
        var client = await fixture.ConnectAsync();

        var result = await client.CallAsync("browser_navigate", new { url });

        Assert.True(result.IsError == true);
        Assert.Equal(expected, result.Text());
    }

    [Fact]
    public async Task RedirectsAndLinksToPrivateAddresses_AreBlockedToo()
    {
        var client = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var inside = $"http://127.0.0.1:{fixture.Site.Port}/b";

        var redirected = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url($"/redirect?to={Uri.EscapeDataString(inside + "?token=x")}") });
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url($"/links?to={Uri.EscapeDataString(inside)}") });
        var clicked = await client.CallAsync("browser_click", new { target = "#out" });
        var snapshot = await client.CallAsync("browser_snapshot");

        Assert.True(redirected.IsError == true);
        Assert.Equal($"url_blocked: {inside} refused: host '127.0.0.1' resolves to a loopback address (127.0.0.1).", redirected.Text());
        // The browser shows its "blocked" error page instead of the private one.
        Assert.DoesNotContain($"- Page URL: {inside}", snapshot.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("This is B", clicked.Text() + snapshot.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_close");
    }

    [Fact]
    public async Task UnknownSession_IsNotFound_AndBadIdIsInvalid()
    {
        var client = await fixture.ConnectAsync();

        var unknown = await client.CallAsync("browser_snapshot", new { session_id = "s-never-created" });
        var invalid = await client.CallAsync("browser_snapshot", new { session_id = "bad id/../x" });

        Assert.StartsWith("session_not_found: no session 's-never-created' for this client", unknown.Text(), StringComparison.Ordinal);
        Assert.Equal("invalid_argument: session_id 'bad id/../x' is not a session id (letters, digits, '.', '_', '-'; at most 100).", invalid.Text());
    }

    [Fact]
    public async Task EveryToolCall_LogsOneStructuredLine()
    {
        var (client, session) = await NewSessionAsync();

        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });
        await client.CallAsync("browser_navigate", new { url = "http://192.168.1.1/", session_id = session });
        await client.CallAsync("browser_session_close", new { session_id = session });

        var lines = fixture.Host.Logs.Entries
            .Where(e => e.Category == "Anchor.Orleans.Api.Mcp.ToolCalls" && Equals(e.Field("SessionId"), session) && Equals(e.Field("Tool"), "browser_navigate"))
            .ToList();
        Assert.Equal(2, lines.Count);
        var ok = lines[0];
        Assert.Equal(TestKeys.AgentClient, ok.Field("ClientId"));
        Assert.Equal(0.002m, ok.Field("CostUsd"));
        Assert.Equal(true, ok.Field("Success"));
        Assert.Equal("", ok.Field("ErrorCode"));
        Assert.IsType<long>(ok.Field("DurationMs"));
        Assert.False(string.IsNullOrEmpty(ok.Scope("request_id") as string));
        var refused = lines[1];
        Assert.Equal(0m, refused.Field("CostUsd"));
        Assert.Equal(false, refused.Field("Success"));
        Assert.Equal("url_blocked", refused.Field("ErrorCode"));
    }

    [Fact]
    public async Task MalformedArguments_AreRefusedWithInvalidArgument()
    {
        var client = await fixture.ConnectAsync();

        var wrongType = await client.CallAsync("browser_select_option", new { target = "#color", values = "blue" });
        var missing = await client.CallAsync("browser_navigate", new { });
        Assert.True(wrongType.IsError == true);
        Assert.StartsWith("invalid_argument: browser_select_option: The JSON value could not be converted to System.String[].", wrongType.Text(), StringComparison.Ordinal);
        Assert.True(missing.IsError == true);
        Assert.StartsWith("invalid_argument: browser_navigate: The arguments dictionary is missing a value for the required parameter 'url'.", missing.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LegacySse_ServesTheSameTools()
    {
        var client = await fixture.ConnectAsync(TestKeys.Agent, HttpTransportMode.Sse);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var list = await client.CallAsync("browser_session_list");

        Assert.Contains(tools, t => t.Name == "browser_navigate");
        Assert.True(list.IsError != true, list.Text());
        Assert.Equal(JsonValueKind.Array, list.Json().GetProperty("sessions").ValueKind);
    }
}
