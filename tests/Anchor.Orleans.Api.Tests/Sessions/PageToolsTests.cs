using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>A silo whose operator client has the opt-in tools on (browser_evaluate, browser_mouse_*).</summary>
public sealed class OptInToolsFixture : BrowserAppFixture
{
    /// <summary>The operator's client may run scripts in pages and use the coordinate tools; the agents may not (the default).</summary>
    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ($"Anchor:Clients:{TestKeys.OperatorClient}:Tools:Allow:0", "browser_evaluate"),
        ($"Anchor:Clients:{TestKeys.OperatorClient}:Tools:Allow:1", "browser_mouse_*"));
}

/// <summary>The peer's page tools (tabs, dialogs, resize, console, network, drag and drop, upload, PDF, evaluate, mouse) on real Chromium.</summary>
public sealed class PageToolsTests(OptInToolsFixture fixture) : IClassFixture<OptInToolsFixture>
{
    private Task<(McpClient Client, string SessionId)> NewSessionAsync(string key = TestKeys.Agent) => fixture.OpenSessionAsync(key);

    [Fact]
    public async Task Tabs_OpenSelectAndClose_ListTheTabsNumberedWithTheCurrentMarked()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });

        var opened = await client.CallAsync("browser_tabs", new { action = "new", url = fixture.Site.Url("/b"), session_id = session });
        var selected = await client.CallAsync("browser_tabs", new { action = "select", index = 0, session_id = session });
        var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });
        var closed = await client.CallAsync("browser_tabs", new { action = "close", index = 1, session_id = session });
        var missing = await client.CallAsync("browser_tabs", new { action = "select", index = 5, session_id = session });

        Assert.StartsWith($"### Open tabs\n- 0: [Page A]({fixture.Site.Url("/a")})\n- 1: (current) [Page B]({fixture.Site.Url("/b")})\n\n", opened.Text(), StringComparison.Ordinal);
        Assert.Contains("- Page Title: Page B", opened.Text(), StringComparison.Ordinal);
        Assert.Equal($"### Open tabs\n- 0: (current) [Page A]({fixture.Site.Url("/a")})\n- 1: [Page B]({fixture.Site.Url("/b")})", selected.Text());
        Assert.Contains("- Page Title: Page A", snapshot.Text(), StringComparison.Ordinal);
        Assert.Equal($"### Open tabs\n- 0: (current) [Page A]({fixture.Site.Url("/a")})", closed.Text());
        Assert.Equal("invalid_argument: there is no tab 5; list them with browser_tabs { action: list } (1 open).", missing.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task HandleDialog_AnswersTheNextDialog_ThenDialogsAreDismissedAgain()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/dialogs"), session_id = session });

        var armed = await client.CallAsync("browser_handle_dialog", new { accept = true, promptText = "Ada", session_id = session });
        var prompted = await client.CallAsync("browser_click", new { target = "text=Prompt", session_id = session });
        var confirmed = await client.CallAsync("browser_click", new { target = "text=Confirm", session_id = session });

        Assert.Equal("The next JavaScript dialog will be accepted with \"Ada\"; later ones are dismissed again.", armed.Text());
        Assert.Contains("name: Ada", prompted.Text(), StringComparison.Ordinal);
        Assert.Contains("The page showed a JavaScript prompt dialog (\"Name?\"); it was accepted as browser_handle_dialog asked.", prompted.Text(), StringComparison.Ordinal);
        Assert.Contains("confirmed: false", confirmed.Text(), StringComparison.Ordinal);
        Assert.Contains("The page showed a JavaScript confirm dialog (\"Sure?\"); it was dismissed.", confirmed.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Resize_SetsTheViewport_AndRefusesAbsurdSizes()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/size"), session_id = session });

        var resized = await client.CallAsync("browser_resize", new { width = 500, height = 400, session_id = session });
        // The page learns its new size from a resize event, a frame later.
        var shown = await client.CallAsync("browser_wait_for", new { text = "viewport 500x400", session_id = session });
        var absurd = await client.CallAsync("browser_resize", new { width = 5, height = 400, session_id = session });

        Assert.Equal("Resized the page to 500×400.", resized.Text());
        Assert.True(shown.IsError != true, shown.Text());
        Assert.Equal("invalid_argument: width and height must be between 100 and 10000 pixels (got 5×400).", absurd.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task ConsoleAndNetwork_ShowWhatTheCurrentPageLoggedAndRequested_WithCredentialQueryValuesHidden()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/activity"), session_id = session });
        await client.CallAsync("browser_wait_for", new { text = "Fetched 200", session_id = session });

        var warnings = await client.CallAsync("browser_console_messages", new { level = "warning", session_id = session });
        var requests = await client.CallAsync("browser_network_requests", new { session_id = session });
        var filtered = await client.CallAsync("browser_network_requests", new { filter = "/b\\?page=2", session_id = session });
        var badLevel = await client.CallAsync("browser_console_messages", new { level = "loud", session_id = session });

        var page = fixture.Site.Url("/activity");
        Assert.Equal($"### Console messages (2)\n- [warning] careful @ {page}\n- [error] broken @ {page}", warnings.Text());
        const string More = "\n\nCall browser_network_request with a number for its headers and body.";
        Assert.Equal($"### Network requests (2)\n1. [GET] {page} (document) => [200 OK]\n2. [GET] {fixture.Site.Url("/b")}?page=2&token=(hidden, 6 characters) (fetch) => [200 OK]{More}", requests.Text());
        Assert.Equal($"### Network requests (1)\n2. [GET] {fixture.Site.Url("/b")}?page=2&token=(hidden, 6 characters) (fetch) => [200 OK]{More}", filtered.Text());
        Assert.DoesNotContain("s3cret", requests.Text(), StringComparison.Ordinal);
        Assert.Equal("invalid_argument: level must be error, warning, info or debug (got 'loud').", badLevel.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task FindDragAndEmulateMedia_WorkOnTheCurrentPage()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });
        var found = await client.CallAsync("browser_find", new { text = "GREET", session_id = session });
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/drag"), session_id = session });
        var dragged = await client.CallAsync("browser_drag", new { startTarget = "#src", endTarget = "#dst", startElement = "source", session_id = session });
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/scheme"), session_id = session });
        var emulated = await client.CallAsync("browser_emulate_media", new { colorScheme = "dark", session_id = session });
        var dark = await client.CallAsync("browser_wait_for", new { text = "scheme dark", session_id = session });
        var unsupported = await client.CallAsync("browser_emulate_media", new { forcedColors = "active", session_id = session });

        Assert.StartsWith("### 2 matches\n```yaml\n", found.Text(), StringComparison.Ordinal);
        Assert.Matches(@"- button ""Greet"" \[ref=e[0-9]+\]", found.Text());
        Assert.Contains("Dragged \"source\" (#src) to #dst", dragged.Text(), StringComparison.Ordinal);
        Assert.Contains("Dropped here", dragged.Text(), StringComparison.Ordinal);
        Assert.Equal("Emulating colorScheme dark.", emulated.Text());
        Assert.True(dark.IsError != true, dark.Text());
        Assert.Equal("invalid_argument: forcedColors and contrast cannot be emulated here; colorScheme, reducedMotion and media can.", unsupported.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Evaluate_IsOffByDefault_AndOnForTheClientWhoseAllowListNamesIt()
    {
        var (agent, agentSession) = await NewSessionAsync();
        var (ops, opsSession) = await NewSessionAsync(TestKeys.Operator);
        await ops.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = opsSession });

        var agentTools = (await agent.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).ToList();
        var opsTools = (await ops.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).ToList();
        var refused = await agent.CallAsync("browser_evaluate", new { function = "() => document.title", session_id = agentSession });
        var title = await ops.CallAsync("browser_evaluate", new { function = "() => document.title", session_id = opsSession });
        var ofElement = await ops.CallAsync("browser_evaluate", new { function = "e => e.options.length", target = "#color", session_id = opsSession });

        Assert.DoesNotContain("browser_evaluate", agentTools);
        Assert.Contains("browser_evaluate", opsTools);
        Assert.Contains("browser_navigate", opsTools);
        Assert.Equal("tool_not_allowed: browser_evaluate is not allowed for this client.", refused.Text());
        Assert.Equal("### Result\n\"Greeting form\"", title.Text());
        Assert.Equal("### Result\n3", ofElement.Text());
        await agent.CallAsync("browser_session_close", new { session_id = agentSession });
        await ops.CallAsync("browser_session_close", new { session_id = opsSession });
    }

    [Fact]
    public async Task FillForm_FillsEveryField_InOneCall()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/form"), session_id = session });

        var filled = await client.CallAsync("browser_fill_form", new
        {
            fields = new object[]
            {
                new { name = "Name", type = "textbox", target = "#name", value = "Ada" },
                new { name = "Color", type = "combobox", target = "#color", value = "Green" },
            },
            session_id = session,
        });
        var greeted = await client.CallAsync("browser_click", new { target = "#greet", session_id = session });

        Assert.Contains("Filled 2 fields: \"Name\" (#name), \"Color\" (#color)", filled.Text(), StringComparison.Ordinal);
        Assert.Contains("Hello, Ada in green", greeted.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task NetworkRequest_ShowsOneRequestsHeadersAndBodies_WithCredentialsMasked()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/api-call"), session_id = session });
        await client.CallAsync("browser_wait_for", new { text = "Echoed kettle", session_id = session });

        var listed = await client.CallAsync("browser_network_requests", new { session_id = session });
        var summary = await client.CallAsync("browser_network_request", new { index = 2, session_id = session });
        var requestBody = await client.CallAsync("browser_network_request", new { index = 2, part = "request-body", session_id = session });
        var responseBody = await client.CallAsync("browser_network_request", new { index = 2, part = "response-body", session_id = session });
        var requestHeaders = await client.CallAsync("browser_network_request", new { index = 2, part = "request-headers", session_id = session });
        var missing = await client.CallAsync("browser_network_request", new { index = 9, session_id = session });
        var badPart = await client.CallAsync("browser_network_request", new { index = 2, part = "cookies", session_id = session });

        var echo = fixture.Site.Url("/echo");
        Assert.Contains($"2. [POST] {echo} (fetch) => [200 OK]", listed.Text(), StringComparison.Ordinal);
        Assert.StartsWith($"#2 [POST] {echo}\n\n  General\n    status:    [200] OK\n    type:      fetch\n    mimeType:  application/json\n", summary.Text(), StringComparison.Ordinal);
        Assert.Contains("    authorization: (hidden, 17 characters)\n", summary.Text(), StringComparison.Ordinal);
        Assert.Contains("\n  Response headers\n", summary.Text(), StringComparison.Ordinal);
        Assert.Contains("Call browser_network_request with part=\"request-body\" to read the request body.", summary.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-123456", summary.Text() + requestHeaders.Text(), StringComparison.Ordinal);
        Assert.Equal("{\"q\":\"kettle\"}", requestBody.Text());
        Assert.Equal("{\"got\":\"kettle\"}", responseBody.Text());
        Assert.Contains("content-type: application/json", requestHeaders.Text(), StringComparison.Ordinal);
        Assert.Equal("invalid_argument: there is no request #9 since the page loaded; list them with browser_network_requests.", missing.Text());
        Assert.Equal("invalid_argument: part must be one of request-headers, request-body, response-headers, response-body (got 'cookies').", badPart.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task Drop_DeliversDataAndFilesFromOutsideThePage_AndNeedsOneOfThem()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/drop"), session_id = session });

        var dropped = await client.CallAsync("browser_drop", new
        {
            target = "#zone",
            data = new Dictionary<string, string> { ["text/plain"] = "hello" },
            files = new[] { new { name = "a.txt", content = Convert.ToBase64String("twelve bytes"u8.ToArray()), mimeType = "text/plain" } },
            session_id = session,
        });
        var empty = await client.CallAsync("browser_drop", new { target = "#zone", session_id = session });
        var paths = await client.CallAsync("browser_drop", new { target = "#zone", paths = new[] { "/etc/passwd" }, session_id = session });

        Assert.True(dropped.IsError != true, dropped.Text());
        Assert.Contains("Dropped a.txt (12 bytes), text/plain onto #zone", dropped.Text(), StringComparison.Ordinal);
        Assert.Contains("text=hello files=a.txt:12", dropped.Text(), StringComparison.Ordinal);
        Assert.Equal("invalid_argument: give files ([{ name, content (base64) }]) or data ({ \"text/plain\": \"…\" }) to drop.", empty.Text());
        Assert.StartsWith("invalid_argument: paths on the server's disk are not available", paths.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task FileUpload_TakesContentFromTheAgent_AndRefusesServerPaths()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/upload"), session_id = session });

        var uploaded = await client.CallAsync("browser_file_upload", new
        {
            files = new[] { new { name = "notes.txt", content = Convert.ToBase64String("hello upload"u8.ToArray()), mimeType = "text/plain" } },
            target = "#f",
            session_id = session,
        });
        var paths = await client.CallAsync("browser_file_upload", new { paths = new[] { "/etc/passwd" }, session_id = session });

        Assert.Contains("Uploaded notes.txt (12 bytes)", uploaded.Text(), StringComparison.Ordinal);
        Assert.Contains("got notes.txt 12 bytes", uploaded.Text(), StringComparison.Ordinal);
        Assert.Equal("invalid_argument: paths on the server's disk are not available in a shared service; send each file as { name, content (base64) } in files.", paths.Text());
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task PdfSave_ReturnsThePageAsAnEmbeddedPdf()
    {
        var (client, session) = await NewSessionAsync();
        await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = session });

        var saved = await client.CallAsync("browser_pdf_save", new { filename = "a.pdf", session_id = session });

        var resource = Assert.IsType<ModelContextProtocol.Protocol.BlobResourceContents>(saved.Content.OfType<ModelContextProtocol.Protocol.EmbeddedResourceBlock>().Single().Resource);
        Assert.Equal("application/pdf", resource.MimeType);
        Assert.Equal("anchor://pdf/a.pdf", resource.Uri);
        Assert.Equal("%PDF-"u8.ToArray(), resource.DecodedData.ToArray()[..5]);
        Assert.StartsWith($"PDF of {fixture.Site.Url("/a")} (", saved.Text(), StringComparison.Ordinal);
        await client.CallAsync("browser_session_close", new { session_id = session });
    }

    [Fact]
    public async Task MouseClickXy_ClicksThePointGiven_ForAClientThatOptedIn()
    {
        var (ops, session) = await NewSessionAsync(TestKeys.Operator);
        var agent = await fixture.ConnectAsync();
        await ops.CallAsync("browser_navigate", new { url = fixture.Site.Url("/xy"), session_id = session });

        var clicked = await ops.CallAsync("browser_mouse_click_xy", new { x = 40, y = 50, session_id = session });
        var agentTools = (await agent.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name);

        Assert.Contains("Clicked at (40, 50)", clicked.Text(), StringComparison.Ordinal);
        Assert.Contains("clicked at 40,50", clicked.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(agentTools, t => t.StartsWith("browser_mouse_", StringComparison.Ordinal));
        await ops.CallAsync("browser_session_close", new { session_id = session });
    }
}
