using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>
/// Three silo processes on real Redis behind Debian's nginx as a per-request round-robin balancer without affinity
/// (as a Kubernetes Service or ingress-nginx without sticky sessions): MCP conversations of real SDK clients over
/// Streamable HTTP and legacy SSE hold across silos, and across a rolling restart.
/// </summary>
public sealed class LoadBalancedMcpTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly string Interop = Repository.PathOf("tests", "interop");
    private readonly FixtureSite _site = new();

    public ValueTask InitializeAsync() => _site.InitializeAsync();

    public ValueTask DisposeAsync() => _site.DisposeAsync();

    [Theory]
    [InlineData(HttpTransportMode.StreamableHttp, McpTestClient.InitializeRevision)]
    [InlineData(HttpTransportMode.StreamableHttp, null)]
    [InlineData(HttpTransportMode.Sse, null)]
    public async Task CSharpSdkAgent_HoldsItsConversation_ThroughARoundRobinBalancer(HttpTransportMode mode, string? protocolVersion)
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 3);

        var failures = new List<string>();
        await using (var agent = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Agent, mode, protocolVersion))
        {
            // An initialize client holds a transport session (cluster state); the newest revision needs none.
            Assert.Equal(protocolVersion is not null, agent.SessionId is not null);
            var tools = await agent.ListToolsAsync(cancellationToken: Ct);
            Assert.Contains(tools, t => t.Name == "browser_navigate");
            var created = await agent.CallAsync("browser_session_create");
            Assert.True(created.IsError != true, created.Text());
            var session = created.Json().GetProperty("session_id").GetString()!;

            failures.AddRange(await Conversation.RunAsync(agent, _site, session));
            var closed = await agent.CallAsync("browser_session_close", new { session_id = session });
            Assert.True(closed.IsError != true, closed.Text());
        }

        Assert.Empty(failures);
        // The balancer spread the conversation over every silo: nothing relied on affinity.
        Assert.Equal(cluster.Ports.Select(p => $"127.0.0.1:{p}").Order(), cluster.Nginx.Upstreams().Distinct().Order());
    }

    [Fact]
    public async Task TransportSession_IsOwnedByItsClient_AndDeleteEndsItOnEverySilo()
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 2);
        var agent = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Agent, protocolVersion: McpTestClient.InitializeRevision);
        var sessionId = agent.SessionId!;
        Assert.False(string.IsNullOrEmpty(sessionId));

        foreach (var silo in cluster.Silos)
        {
            Assert.Equal(HttpStatusCode.OK, await ListToolsStatusAsync(silo.BaseAddress, TestKeys.Agent, sessionId));
            // Another client presenting the id learns nothing: the session does not exist for it.
            Assert.Equal(HttpStatusCode.NotFound, await ListToolsStatusAsync(silo.BaseAddress, TestKeys.OtherAgent, sessionId));
        }

        // The SDK client ends its session with DELETE /mcp (through the balancer, so on one silo).
        await agent.DisposeAsync();

        foreach (var silo in cluster.Silos)
        {
            Assert.Equal(HttpStatusCode.NotFound, await ListToolsStatusAsync(silo.BaseAddress, TestKeys.Agent, sessionId));
        }
    }

    [Theory]
    [InlineData("http")]
    [InlineData("sse")]
    public async Task TypeScriptSdkAgent_HoldsItsConversation_ThroughARoundRobinBalancer(string transport)
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 3);

        var output = await RunNodeAsync("cluster-agent.mjs", cluster.BaseAddress.ToString(), TestKeys.Agent, transport, _site.Url(""));

        var result = JsonDocument.Parse(output).RootElement;
        Assert.Contains("browser_navigate", result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(Conversation.Calls, result.GetProperty("calls").GetInt32());
        Assert.Empty(result.GetProperty("failures").EnumerateArray().Select(f => f.GetString()));
        Assert.True(result.GetProperty("closed").GetBoolean(), output);
        Assert.Equal(3, cluster.Nginx.Upstreams().Distinct().Count());
    }

    [Fact]
    public async Task RollingRestart_KeepsTheAgentsMcpSession_WithoutReconnecting()
    {
        await using var cluster = await BalancedCluster.StartAsync(redis, 3, ("Anchor:Shutdown:DrainSeconds", "2"));
        await using var agent = await McpTestClient.ConnectAsync(cluster.BaseAddress, TestKeys.Agent, protocolVersion: McpTestClient.InitializeRevision);
        var transportSession = agent.SessionId;
        Assert.NotNull(transportSession);
        var created = await agent.CallAsync("browser_session_create");
        Assert.True(created.IsError != true, created.Text());
        var session = created.Json().GetProperty("session_id").GetString()!;
        var opened = await agent.CallAsync("browser_navigate", new { session_id = session, url = _site.Url("/form") });
        Assert.True(opened.IsError != true, opened.Text());

        // Restart a silo that is not holding the browser (one holding it ends its sessions as the drain defines).
        var victim = cluster.Silos.Select((silo, index) => (silo, index)).First(s => s.silo.Descendants("--anchor-instance=").Count == 0);
        var failures = await Conversation.RunAsync(agent, _site, session, async call =>
        {
            if (call == 10)
            {
                victim.silo.Terminate();
                await victim.silo.Process.WaitForExitAsync(Ct);
                cluster.Replace(victim.index);
            }
            else if (call == 20)
            {
                await cluster.WaitForSilosAsync(3);
            }
        });

        Assert.Equal(0, victim.silo.Process.ExitCode);
        Assert.Empty(failures);
        Assert.Equal(transportSession, agent.SessionId);
        var closed = await agent.CallAsync("browser_session_close", new { session_id = session });
        Assert.True(closed.IsError != true, closed.Text());
        // The replacement served part of the conversation under the same MCP session.
        Assert.Contains($"127.0.0.1:{cluster.Ports[victim.index]}", cluster.Nginx.Upstreams().Skip(cluster.Nginx.Upstreams().Count / 2));
    }

    private static async Task<HttpStatusCode> ListToolsStatusAsync(Uri silo, string apiKey, string sessionId)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(silo, "mcp"))
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Mcp-Session-Id", sessionId);
        using var response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }

    private static async Task<string> RunNodeAsync(params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = Interop, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync(Ct);
        var stderr = node.StandardError.ReadToEndAsync(Ct);
        await node.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(3), Ct);
        Assert.True(node.ExitCode == 0, $"node {string.Join(' ', args)} exited {node.ExitCode}: {await stderr}");
        return await stdout;
    }
}
