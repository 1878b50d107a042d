using System.Net;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.OperatorConsole;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.OperatorConsole;

/// <summary>The operator console as an operator uses it: in Chromium, against a silo with real Redis, an agent on the MCP client.</summary>
public sealed class ConsoleTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task SignIn_RefusesAnAgentKeyAndAWrongKey_AndAdmitsAnOperatorKey()
    {
        var page = await fixture.NewPageAsync();

        await page.GotoAsync(fixture.Url("/console"));
        Assert.EndsWith("/console/sign-in", page.Url, StringComparison.Ordinal);

        Assert.Equal(401, await fixture.SubmitKeyAsync(page, "not-a-key-at-all"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That key is not valid.");

        Assert.Equal(403, await fixture.SubmitKeyAsync(page, TestKeys.Agent));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That is an agent key: the console needs an operator key.");

        Assert.Equal(302, await fixture.SubmitKeyAsync(page, TestKeys.Operator));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".who strong")).ToHaveTextAsync(TestKeys.OperatorClient);
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == ConsoleSessions.CookieName);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/console", cookie.Path);
        Assert.Equal(43, cookie.Value.Length);
        Assert.DoesNotContain(TestKeys.Operator, fixture.Host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_ShowAnAgentsSession_WithinTwoSecondsOfItsFirstCall()
    {
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync(fixture.Url("/console/sessions"));
        await Assertions.Expect(page.Locator("[data-refresh]")).ToBeVisibleAsync();

        var (agent, sessionId) = await fixture.OpenSessionAsync();
        var opened = DateTime.UtcNow;
        var row = page.Locator($"tr[data-session='{sessionId}']");
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = 2_000 });
        var seenAfter = DateTime.UtcNow - opened;
        await Assertions.Expect(row.Locator("td").Nth(1)).ToHaveTextAsync(TestKeys.AgentClient);
        TestContext.Current.TestOutputHelper?.WriteLine($"session row shown {seenAfter.TotalMilliseconds:F0} ms after browser_session_create answered");

        // Filtered by another client, the session is not listed.
        await page.GotoAsync(fixture.Url($"/console/sessions?client={TestKeys.OtherAgentClient}"));
        await Assertions.Expect(page.Locator("[data-no-sessions]")).ToBeVisibleAsync();
        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
    }

    [Fact]
    public async Task Close_FromTheConsole_TheAgentsNextCallIsSessionExpired()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = sessionId });
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync(fixture.Url($"/console/sessions/{sessionId}"));
        await Assertions.Expect(page.Locator("[data-session-state='open'] .url")).ToHaveTextAsync(fixture.Site.Url("/a"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Close session" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Session {sessionId} closed.");
        var next = await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/b"), session_id = sessionId });
        Assert.True(next.IsError);
        Assert.StartsWith($"session_expired: session '{sessionId}' ended at ", next.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchLive_OpensTheLiveViewOfTheSession()
    {
        var (agent, sessionId) = await fixture.OpenSessionAsync();
        await agent.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a"), session_id = sessionId });
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync(fixture.Url($"/console/sessions/{sessionId}"));

        var live = await page.RunAndWaitForPopupAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Watch live" }).ClickAsync());

        await Assertions.Expect(live.Locator("body")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 15_000 });
        await Assertions.Expect(live.Locator("#title")).ToHaveTextAsync("Page A", new() { Timeout = 10_000 });
        await agent.CallAsync("browser_session_close", new { session_id = sessionId });
    }

    [Fact]
    public async Task Emergency_TripWithConfirmation_RefusesTheAgent_ThenResetServesItAgain()
    {
        var agent = await fixture.ConnectAsync();
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync(fixture.Url("/console/emergency"));
        try
        {
            await page.GetByLabel("Reason").FillAsync("console drill");
            await page.GetByLabel("Type STOP to confirm").FillAsync("stop please");
            await page.GetByRole(AriaRole.Button, new() { Name = "Trip the switch" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Type STOP to confirm.");
            await Assertions.Expect(page.Locator("[data-switch]")).ToHaveAttributeAsync("data-switch", "off");

            await page.GetByLabel("Type STOP to confirm").FillAsync("STOP");
            await page.GetByRole(AriaRole.Button, new() { Name = "Trip the switch" }).ClickAsync();

            await Assertions.Expect(page.Locator("[data-switch]")).ToHaveAttributeAsync("data-switch", "tripped");
            await Assertions.Expect(page.Locator("tbody tr").First).ToContainTextAsync($"trip{TestKeys.OperatorClient}console drill");
            var refused = await Poll.UntilAsync(
                () => agent.CallAsync("browser_session_create"), r => r.IsError == true, TimeSpan.FromSeconds(10), "the agent refused");
            Assert.StartsWith("emergency_shutdown", refused.Text(), StringComparison.Ordinal);

            await page.GetByRole(AriaRole.Button, new() { Name = "Reset the switch" }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-switch]")).ToHaveAttributeAsync("data-switch", "off");
            await Assertions.Expect(page.Locator("tbody tr").First).ToContainTextAsync($"reset{TestKeys.OperatorClient}");
            var served = await Poll.UntilAsync(
                () => agent.CallAsync("browser_session_create"), r => r.IsError != true, TimeSpan.FromSeconds(10), "the agent served again");
            await agent.CallAsync("browser_session_close", new { session_id = served.Json().GetProperty("session_id").GetString() });
        }
        finally
        {
            using var ops = fixture.Host.CreateClient(TestKeys.Operator);
            (await ops.DeleteAsync("/api/emergency-shutdown", Ct)).Dispose();
        }
    }

    [Fact]
    public async Task ForgedPost_WithoutTheAntiforgeryToken_Is400_AndChangesNothing()
    {
        var page = await fixture.SignedInPageAsync();

        // The signed-in browser's own cookies, as a cross-site form would send them (were SameSite not Strict).
        var forged = await page.Context.APIRequest.PostAsync(fixture.Url("/console/emergency/trip"), new()
        {
            Form = page.Context.APIRequest.CreateFormData().Set("reason", "forged").Set("confirm", "STOP"),
            MaxRedirects = 0,
        });

        Assert.Equal(400, forged.Status);
        using var ops = fixture.Host.CreateClient(TestKeys.Operator);
        var state = await ops.GetStringAsync("/api/emergency-shutdown", Ct);
        Assert.Contains("\"tripped\":false", state, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_EndsTheSession_TheOldCookieNoLongerWorks()
    {
        var page = await fixture.SignedInPageAsync();
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == ConsoleSessions.CookieName).Value;
        Assert.Equal(HttpStatusCode.OK, (await GetWithCookieAsync("/console", cookie)).StatusCode);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Level = 1 })).ToBeVisibleAsync();
        var replayed = await GetWithCookieAsync("/console", cookie);
        Assert.Equal(HttpStatusCode.SeeOther, replayed.StatusCode);
        Assert.Equal("/console/sign-in", replayed.Headers.Location?.ToString());
    }

    [Fact]
    public async Task ConsoleCookie_DoesNotAuthenticateTheApiOrMcp()
    {
        var page = await fixture.SignedInPageAsync();
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == ConsoleSessions.CookieName).Value;

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithCookieAsync("/api/sessions", cookie)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithCookieAsync("/status", cookie)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithCookieAsync("/mcp", cookie)).StatusCode);
    }

    [Fact]
    public async Task SignIn_Ends_WhenItsKeyIsRemovedFromConfiguration_AndStaysEndedWhenTheKeyReturns()
    {
        var withKey = new AuthOptions { ApiKeys = [new ApiKeyOptions { ClientId = TestKeys.OperatorClient, Key = TestKeys.Operator, Role = ApiRole.Operator }] };
        var auth = new SettableOptions<AuthOptions>(withKey);
        var sessions = new ConsoleSessions(
            fixture.Host.Services.GetRequiredService<IGrainFactory>(), new ApiKeyStore(auth), auth, new SettableOptions<ConsoleOptions>(new ConsoleOptions()), TimeProvider.System);
        var (cookie, caller, refusal) = await sessions.SignInAsync(TestKeys.Operator, Ct);
        Assert.Null(refusal);
        Assert.Equal(TestKeys.OperatorClient, caller!.ClientId);
        Assert.Equal(TestKeys.OperatorClient, (await sessions.ResolveAsync(cookie, Ct))?.ClientId);

        auth.Set(new AuthOptions { ApiKeys = [new ApiKeyOptions { ClientId = TestKeys.OperatorClient, Key = "a-rotated-operator-key", Role = ApiRole.Operator }] });
        Assert.Null(await sessions.ResolveAsync(cookie, Ct));

        auth.Set(withKey);
        Assert.Null(await sessions.ResolveAsync(cookie, Ct));
    }

    /// <summary>Options whose value a test changes, as a configuration reload would.</summary>
    private sealed class SettableOptions<T>(T value) : IOptionsMonitor<T>
    {
        private readonly List<Action<T, string?>> _listeners = [];

        public T CurrentValue { get; private set; } = value;

        public T Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<T, string?> listener)
        {
            _listeners.Add(listener);
            return null;
        }

        public void Set(T next)
        {
            CurrentValue = next;
            foreach (var listener in _listeners)
            {
                listener(next, null);
            }
        }
    }

    private async Task<HttpResponseMessage> GetWithCookieAsync(string path, string cookie)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = fixture.Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.Add("Cookie", $"{ConsoleSessions.CookieName}={cookie}");
        return await http.SendAsync(request, Ct);
    }
}
