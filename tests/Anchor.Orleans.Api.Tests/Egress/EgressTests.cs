using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Egress;

/// <summary>
/// A silo whose browser resolves names with a test DNS server on loopback, a "secret" HTTP and WebSocket server on
/// 127.0.0.1 that is not allowed, and attack pages on <c>localhost</c>, which is (the test silos allow it).
/// </summary>
public sealed class EgressFixture : BrowserAppFixture
{
    public TestDnsServer Dns { get; } = new();

    public SecretServer Secret { get; } = new();

    public AttackSite Attack { get; } = new();

    protected override Dictionary<string, string?> Settings() => BaseSettings(
        ("Anchor:Browser:DnsServers:0", Dns.Endpoint),
        ("Anchor:Sessions:ActionTimeoutSeconds", "15"),
        ("Anchor:Clients:" + TestKeys.OtherAgentClient + ":Browser:AllowedHosts:0", "127.0.0.1"), // Only the other client may reach the secret.
        ("Anchor:RateLimit:MaxRequests", "10000")); // The tests poll snapshots.

    public override async ValueTask InitializeAsync()
    {
        await Secret.StartAsync();
        await Attack.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Attack.DisposeAsync();
        await Secret.DisposeAsync();
        await Dns.DisposeAsync();
    }
}

/// <summary>A loopback server holding a secret: any path answers it (as script, to any origin), <c>/ws*</c> sends it over a WebSocket.</summary>
public sealed class SecretServer : IAsyncDisposable
{
    public const string Value = "s3cr3t-7f2b";

    private readonly ConcurrentDictionary<string, int> _hits = new(StringComparer.Ordinal);
    private LoopbackApp? _app;

    public int Port => _app!.Port;

    /// <summary>Requests (WebSocket handshakes included) whose path starts with <paramref name="prefix"/>.</summary>
    public int Hits(string prefix) => _hits.Where(h => h.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(h => h.Value);

    public async Task StartAsync() => _app = await LoopbackApp.StartAsync(app =>
    {
        app.UseWebSockets();
        app.Run(async http =>
        {
            _hits.AddOrUpdate(http.Request.Path.Value ?? "", 1, (_, n) => n + 1);
            if (http.WebSockets.IsWebSocketRequest)
            {
                using var socket = await http.WebSockets.AcceptWebSocketAsync();
                await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(Value), System.Net.WebSockets.WebSocketMessageType.Text, true, http.RequestAborted);
                await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", http.RequestAborted);
                return;
            }

            http.Response.Headers.AccessControlAllowOrigin = "*";
            http.Response.ContentType = "text/javascript";
            await http.Response.WriteAsync($"window.leaked = '{Value}';");
        });
    });

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Pages that reach for a URL in one way each: a script subresource, fetch, a WebSocket, a popup, a page-initiated navigation.</summary>
public sealed class AttackSite : IAsyncDisposable
{
    private LoopbackApp? _app;

    public int Port => _app!.Port;

    public string Url(string vector, string target) => $"http://localhost:{Port}/attack?vector={vector}&url={Uri.EscapeDataString(target)}";

    public async Task StartAsync() =>
        _app = await LoopbackApp.StartAsync(app => app.MapGet("/attack", (string vector, string url) => Results.Content(Page(vector, url), "text/html; charset=utf-8")));

    private static string Page(string vector, string url) => $$"""
        <!doctype html><title>Attack</title><p id="out">pending</p><script>
        const u = {{JsonSerializer.Serialize(url)}};
        const out = t => document.getElementById('out').textContent = t;
        switch ({{JsonSerializer.Serialize(vector)}}) {
          case 'subresource': { const s = document.createElement('script'); s.onload = () => out('script: ' + window.leaked); s.onerror = () => out('script failed'); s.src = u; document.head.append(s); break; }
          case 'fetch': fetch(u).then(r => r.text()).then(t => out('fetched: ' + t), () => out('fetch failed')); break;
          case 'websocket': { const w = new WebSocket(u.replace(/^http/, 'ws')); w.onmessage = e => out('ws: ' + e.data); w.onerror = () => out('ws failed'); break; }
          case 'popup': window.open(u); out('popup opened'); break;
          case 'location': setTimeout(() => { location.href = u; }, 10); break;
          case 'iframe': { const f = document.createElement('iframe'); f.onload = () => out('iframe loaded'); f.src = u; document.body.append(f); break; }
        }
        </script>
        """;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// Pinned egress, end to end with real Chromium: whatever a page does — navigation, redirect, script subresource,
/// fetch, WebSocket, popup, page-initiated navigation — it never reaches the loopback secret server, whether it names
/// it by a rebinding name (public when checked, loopback when used, TTL 0), by a name whose DNS fails (SERVFAIL), or by
/// its address. Controls prove each vector does reach the server when its host is allowed.
/// </summary>
public sealed class EgressTests(EgressFixture fixture) : IClassFixture<EgressFixture>, IAsyncLifetime
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

    /// <summary>A public address (TEST-NET-2) the rebinding names answer first; only policy checks ever see it, never a connection.</summary>
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.7");

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    private string Target(string vector, string kind) => kind switch
    {
        "rebind" => $"http://{vector}.rebind.test:{fixture.Secret.Port}/secret/{vector}",
        "servfail" => $"http://{vector}.servfail.test:{fixture.Secret.Port}/secret/{vector}",
        "nxdomain" => $"http://{vector}.nxdomain.test:{fixture.Secret.Port}/secret/{vector}",
        _ => $"http://127.0.0.1:{fixture.Secret.Port}/secret/{vector}",
    };

    /// <summary>Sets the test DNS server up for the target's name; returns the name (null for an address).</summary>
    private string? Prepare(string vector, string kind)
    {
        var name = kind == "literal" ? null : $"{vector}.{kind}.test";
        if (kind == "rebind")
        {
            fixture.Dns.Rebind(name!, Public, IPAddress.Loopback);
        }
        else if (kind == "servfail")
        {
            fixture.Dns.ServFail(name!);
        }

        return name;
    }

    private static string Reason(string kind, string? name) => kind switch
    {
        "rebind" => $"host '{name}' resolves to a loopback address (127.0.0.1)",
        "servfail" => $"the name '{name}' did not resolve (the DNS server failed (SERVFAIL))",
        "nxdomain" => $"the name '{name}' did not resolve (no such name)",
        _ => "host '127.0.0.1' resolves to a loopback address (127.0.0.1)",
    };

    [Theory]
    [InlineData("rebind")]
    [InlineData("servfail")]
    [InlineData("nxdomain")]
    [InlineData("literal")]
    public async Task Navigation_IsRefused_WithUrlBlocked(string kind)
    {
        var name = Prepare("navigate", kind);
        var target = Target("navigate", kind);
        var (client, session) = await NewSessionAsync();

        var navigated = await client.CallAsync("browser_navigate", new { url = target, session_id = session });

        // A rebinding name passed the early check (public) and was refused when the browser connected (loopback).
        Assert.Equal($"url_blocked: {target} refused: {Reason(kind, name)}.", navigated.Text());
        var lookups = name is null ? 0 : fixture.Dns.Lookups(name);
        if (kind == "rebind")
        {
            // The check, and the proxy's one lookup per attempt: Chromium sends a request again, once, when it failed
            // unanswered on a proxy connection it had opened ahead of time (a preconnect), and it may have used one.
            Assert.InRange(lookups, 2, 3);
        }
        else
        {
            Assert.Equal(kind == "literal" ? 0 : 1, lookups);
        }
        await AssertNothingLeakedAsync(client, session, "navigate");
    }

    [Theory]
    [InlineData("rebind")]
    [InlineData("servfail")]
    [InlineData("literal")]
    public async Task Redirect_IsRefused_WithUrlBlocked(string kind)
    {
        var name = Prepare("redirect", kind);
        var target = Target("redirect", kind);
        await PrimeAsync(kind, target); // The redirect's target is first looked up by a check elsewhere, and looks public.
        var (client, session) = await NewSessionAsync();

        var navigated = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url($"/redirect?to={Uri.EscapeDataString(target)}"), session_id = session });

        Assert.Equal($"url_blocked: {target} refused: {Reason(kind, name)}.", navigated.Text());
        await AssertNothingLeakedAsync(client, session, "redirect");
    }

    [Theory]
    [InlineData("subresource", "rebind", "script failed")]
    [InlineData("subresource", "servfail", "script failed")]
    [InlineData("subresource", "literal", "script failed")]
    [InlineData("fetch", "rebind", "fetch failed")]
    [InlineData("fetch", "servfail", "fetch failed")]
    [InlineData("fetch", "literal", "fetch failed")]
    [InlineData("websocket", "rebind", "ws failed")]
    [InlineData("websocket", "servfail", "ws failed")]
    [InlineData("websocket", "literal", "ws failed")]
    public async Task PageRequest_Fails_AndNeverReachesTheSecret(string vector, string kind, string outcome)
    {
        var name = Prepare(vector, kind);
        var target = Target(vector, kind);
        await PrimeAsync(kind, target);
        var (client, session) = await NewSessionAsync();

        await client.CallAsync("browser_navigate", new { url = fixture.Attack.Url(vector, target), session_id = session });
        var settled = await Poll.UntilAsync(() => SnapshotAsync(client, session), t => !t.Contains("pending", StringComparison.Ordinal), Settle, $"the {vector} attempt to settle");

        Assert.True(settled.Contains(outcome, StringComparison.Ordinal), settled);
        if (kind == "rebind")
        {
            Assert.Equal(2, fixture.Dns.Lookups(name!)); // The check saw the public answer; the connection resolved again and saw loopback.
        }

        await AssertNothingLeakedAsync(client, session, vector);
    }

    [Theory]
    [InlineData("popup", "rebind")]
    [InlineData("popup", "servfail")]
    [InlineData("location", "rebind")]
    [InlineData("location", "servfail")]
    public async Task PageInitiatedNavigation_NeverReachesTheSecret(string vector, string kind)
    {
        var name = Prepare(vector, kind)!;
        var target = Target(vector, kind);
        await PrimeAsync(kind, target);
        var before = fixture.Dns.Lookups(name);
        var (client, session) = await NewSessionAsync();

        await client.CallAsync("browser_navigate", new { url = fixture.Attack.Url(vector, target), session_id = session });
        // The browser's attempt shows as one more lookup of the name, answered loopback (rebinding) or SERVFAIL.
        await Poll.UntilAsync(() => fixture.Dns.Lookups(name) > before, Settle, $"the {vector} to look the name up");
        var tabs = await client.CallAsync("browser_tabs", new { action = "list", session_id = session });

        Assert.DoesNotContain(SecretServer.Value, tabs.Text(), StringComparison.Ordinal);
        await AssertNothingLeakedAsync(client, session, vector);
    }

    [Theory]
    [InlineData("subresource", $"script: {SecretServer.Value}")]
    [InlineData("fetch", $"fetched: window.leaked = '{SecretServer.Value}';")]
    [InlineData("websocket", $"ws: {SecretServer.Value}")]
    public async Task Control_TheSameVector_ReachesTheServer_WhenItsHostIsAllowed(string vector, string outcome)
    {
        var (client, session) = await NewSessionAsync();
        var allowed = $"http://localhost:{fixture.Secret.Port}/control/{vector}";

        await client.CallAsync("browser_navigate", new { url = fixture.Attack.Url(vector, allowed), session_id = session });
        var settled = await Poll.UntilAsync(() => SnapshotAsync(client, session), t => !t.Contains("pending", StringComparison.Ordinal), Settle, $"the {vector} control to settle");

        Assert.True(settled.Contains(outcome, StringComparison.Ordinal), settled);
        Assert.Equal(1, fixture.Secret.Hits($"/control/{vector}"));
    }

    /// <summary>
    /// No connection is shared across clients: right after the other client (whose policy allows <c>127.0.0.1</c>)
    /// loaded the secret server's page, a frame this client's page opens to the same host and port is refused, and
    /// reaches nothing — no idle keep-alive connection of another client carries it.
    /// </summary>
    [Fact]
    public async Task ConnectionOfAnotherClient_NeverCarriesARequestThisClientsPolicyForbids()
    {
        var (allowed, allowedSession) = await NewSessionAsync(TestKeys.OtherAgent);
        var (client, session) = await NewSessionAsync();
        var warm = $"http://127.0.0.1:{fixture.Secret.Port}/pool/warm";
        var forbidden = $"http://127.0.0.1:{fixture.Secret.Port}/secret/pool";

        var warmed = await allowed.CallAsync("browser_navigate", new { url = warm, session_id = allowedSession });
        await client.CallAsync("browser_navigate", new { url = fixture.Attack.Url("iframe", forbidden), session_id = session });
        var settled = await Poll.UntilAsync(() => SnapshotAsync(client, session), t => !t.Contains("pending", StringComparison.Ordinal), Settle, "the frame to settle");

        Assert.True(warmed.IsError != true, warmed.Text());
        Assert.Contains(SecretServer.Value, warmed.Text(), StringComparison.Ordinal);
        Assert.Equal(1, fixture.Secret.Hits("/pool/warm"));
        Assert.Contains("iframe loaded", settled, StringComparison.Ordinal);
        await AssertNothingLeakedAsync(client, session, "pool");
    }

    /// <summary>For a rebinding name, the URL policy checks it first, as an earlier check would: it looks public.</summary>
    private async Task PrimeAsync(string kind, string target)
    {
        if (kind == "rebind")
        {
            var checkedUrl = await fixture.Host.Services.GetRequiredService<UrlPolicy>().CheckAsync(target, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(target, checkedUrl.AbsoluteUri);
        }
    }

    private async Task AssertNothingLeakedAsync(McpClient client, string session, string vector)
    {
        var snapshot = await SnapshotAsync(client, session);
        Assert.DoesNotContain(SecretServer.Value, snapshot, StringComparison.Ordinal);
        Assert.Equal(0, fixture.Secret.Hits($"/secret/{vector}"));
    }

    private static async Task<string> SnapshotAsync(McpClient client, string session) =>
        (await client.CallAsync("browser_snapshot", new { session_id = session })).Text();
}
