using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>browser_tabs, browser_handle_dialog and browser_resize on real Chromium, shaped as @playwright/mcp's.</summary>
public sealed class PageToolsTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    private async Task<(McpClient Client, string SessionId)> NewSessionAsync()
    {
        var client = await fixture.ConnectAsync();
        var created = await client.CallAsync("browser_session_create");
        Assert.True(created.IsError != true, created.Text());
        return (client, created.Json().GetProperty("session_id").GetString()!);
    }

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
}
