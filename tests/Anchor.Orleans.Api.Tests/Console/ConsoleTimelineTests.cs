using System.IO.Compression;
using System.Text.Json;
using Anchor.Orleans.Testing;
using static Anchor.Orleans.Api.OperatorConsole.ConsoleLayout;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.OperatorConsole;

/// <summary>A session's page in the console: its timeline with masked arguments and costs, the JSON export, the recorded trace.</summary>
public sealed class ConsoleTimelineTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task Timeline_ShowsEachCallWithMaskedArgumentsAndItsCost_AsTheExportHasThem()
    {
        const string token = "tok-secret-91c7";
        const string password = "pw-console-4e2b";
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url($"/login?token={token}"), session_id = sessionId });
        await agent.CallAsync("browser_type", new { target = "input[name=password]", text = password, element = "Password", session_id = sessionId });
        var page = await fixture.SignedInPageAsync();

        await Poll.UntilAsync(
            async () =>
            {
                await page.GotoAsync(fixture.Url($"/console/sessions/{sessionId}"));
                return await page.Locator("tr[data-name='browser_type']").CountAsync();
            },
            n => n == 1,
            TimeSpan.FromSeconds(10),
            "the typing call on the session's timeline");

        var navigate = page.Locator("tr[data-name='browser_navigate']");
        await Assertions.Expect(navigate).ToHaveCountAsync(1);
        await Assertions.Expect(navigate.Locator(".args")).ToContainTextAsync("token=");
        await Assertions.Expect(page.Locator("tr[data-name='browser_type'] .args")).ToContainTextAsync($"(hidden, {password.Length} characters)");
        var html = await page.ContentAsync();
        Assert.DoesNotContain(token, html, StringComparison.Ordinal);
        Assert.DoesNotContain(password, html, StringComparison.Ordinal);

        var export = await page.Context.APIRequest.GetAsync(fixture.Url($"/console/sessions/{sessionId}/timeline.json"));
        Assert.Equal(200, export.Status);
        var view = JsonDocument.Parse(await export.TextAsync()).RootElement;
        Assert.Equal(sessionId, view.GetProperty("session_id").GetString());
        var calls = view.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "call").ToList();
        Assert.Equal(["browser_navigate", "browser_type"], calls.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("opened", view.GetProperty("entries")[0].GetProperty("name").GetString());
        await Assertions.Expect(page.Locator("tr[data-kind='event'][data-name='opened']")).ToHaveCountAsync(1);
        foreach (var call in calls)
        {
            var cost = call.GetProperty("cost_usd").GetDecimal();
            await Assertions.Expect(page.Locator($"tr[data-name='{call.GetProperty("name").GetString()}'] [data-cost]")).ToHaveTextAsync(Usd(cost));
        }

        var total = view.GetProperty("total_cost_usd").GetDecimal();
        Assert.Equal(view.GetProperty("entries").EnumerateArray().Sum(e => e.GetProperty("cost_usd").GetDecimal()), total);
        await Assertions.Expect(page.Locator("[data-total-cost]")).ToHaveTextAsync(Usd(total));
        Assert.DoesNotContain(password, await export.TextAsync(), StringComparison.Ordinal);
        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
    }

    [Fact]
    public async Task TraceZip_DownloadsAPlaywrightTrace_WhenTheClientRecords_AndNothingWhenItDoesNot()
    {
        var (recorded, recordedId) = await fixture.OpenSessionAsync(TestKeys.OtherAgent);
        var (plain, plainId) = await fixture.OpenSessionAsync(TestKeys.Agent);
        foreach (var (agent, id) in new[] { (recorded, recordedId), (plain, plainId) })
        {
            await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = id });
            await agent.CallAsync("browser_session_close", new { session_id = id });
        }

        var page = await fixture.SignedInPageAsync();
        var link = page.GetByRole(AriaRole.Link, new() { Name = "Download trace.zip" });
        await Poll.UntilAsync(
            async () =>
            {
                await page.GotoAsync(fixture.Url($"/console/sessions/{recordedId}"));
                return await link.CountAsync();
            },
            n => n == 1,
            TimeSpan.FromSeconds(15),
            "the recorded trace offered on the session's page");

        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        var file = Path.Combine(fixture.ScreenshotDirectory, "..", $"trace-{recordedId}.zip");
        await download.SaveAsAsync(file);
        using (var zip = ZipFile.OpenRead(file))
        {
            Assert.Contains("trace.trace", zip.Entries.Select(e => e.FullName));
            Assert.Contains(zip.Entries, e => e.FullName.StartsWith("screencast/", StringComparison.Ordinal));
        }

        await page.GotoAsync(fixture.Url($"/console/sessions/{plainId}"));
        await Assertions.Expect(page.Locator("[data-session-state='ended']")).ToBeVisibleAsync();
        await Assertions.Expect(link).ToHaveCountAsync(0);
        Assert.Equal(404, (await page.Context.APIRequest.GetAsync(fixture.Url($"/console/sessions/{plainId}/trace.zip"))).Status);
    }
}
