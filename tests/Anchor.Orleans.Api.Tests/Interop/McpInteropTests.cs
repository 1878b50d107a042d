using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Anchor.Orleans.Api.Tests.Sessions;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Api.Tests.Interop;

/// <summary>
/// Real third-party MCP peers from npm (tests/interop, pinned by its lock file): an agent on the TypeScript SDK
/// drives the service over both transports, and every argument @playwright/mcp's tools take is accepted here.
/// </summary>
public sealed class McpInteropTests(OptInToolsFixture fixture) : IClassFixture<OptInToolsFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly string Interop = Repository.PathOf("tests", "interop");

    /// <summary>The peer's tools we do not serve: running arbitrary code in the server process has no place in a shared service.</summary>
    private static readonly string[] NotServed = ["browser_run_code_unsafe"];

    [Theory]
    [InlineData("http", TestKeys.Agent)]
    [InlineData("sse", TestKeys.OtherAgent)]
    public async Task TypeScriptSdkAgent_DrivesTheBrowser(string transport, string key)
    {
        var output = await RunNodeAsync("agent.mjs", fixture.Host.BaseAddress.ToString(), key, transport, fixture.Site.Url("/form"));

        var result = JsonDocument.Parse(output).RootElement;
        Assert.Contains("browser_navigate", result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains("budget_status", result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        // The SDK validated both against their outputSchema; each answers the caller's own figures.
        Assert.Equal(key == TestKeys.Agent ? TestKeys.AgentClient : TestKeys.OtherAgentClient, result.GetProperty("structured").GetProperty("budget_status").GetProperty("client_id").GetString());
        Assert.StartsWith("s-", result.GetProperty("structured").GetProperty("browser_session_create").GetProperty("session_id").GetString(), StringComparison.Ordinal);
        Assert.Matches("^e[0-9]+$", result.GetProperty("ref").GetString());
        Assert.False(result.GetProperty("isError").GetBoolean(), result.GetProperty("clicked").GetString());
        Assert.Contains($"Hello, Node {transport} in red", result.GetProperty("clicked").GetString(), StringComparison.Ordinal);
        Assert.Equal("Browser closed.", result.GetProperty("closed").GetString());
    }

    [Fact]
    public async Task EveryArgumentOfPlaywrightMcpTools_IsAcceptedHere()
    {
        var port = FreePorts.Next();
        using var peer = StartNode(
            "node_modules/@playwright/mcp/cli.js", "--port", port.ToString(CultureInfo.InvariantCulture), "--headless", "--isolated",
            "--no-sandbox", "--executable-path", "/usr/bin/chromium", "--caps", "vision,pdf");
        try
        {
            // The peer only answers Host localhost:<port>.
            var theirs = await Poll.UntilAsync(
                async () =>
                {
                    await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri($"http://localhost:{port}/mcp") }), cancellationToken: Ct);
                    return await client.ListToolsAsync(cancellationToken: Ct);
                },
                tools => tools.Count > 0,
                TimeSpan.FromSeconds(30),
                "@playwright/mcp to answer");
            var ours = await (await fixture.ConnectAsync(TestKeys.Operator)).ListToolsAsync(cancellationToken: Ct);

            // Every tool of the peer (core, vision and pdf) but the one a shared service must not run is served here.
            var shared = theirs.Select(t => t.Name).Intersect(ours.Select(t => t.Name)).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(theirs.Select(t => t.Name).Except(NotServed).Order(StringComparer.Ordinal), shared);
            Assert.Equal(31, shared.Length);
            foreach (var name in shared)
            {
                var accepted = Properties(ours.Single(t => t.Name == name).JsonSchema);
                Assert.All(Properties(theirs.Single(t => t.Name == name).JsonSchema), p => Assert.True(accepted.Contains(p), $"{name} does not accept '{p}'"));
            }
        }
        finally
        {
            peer.Kill(entireProcessTree: true);
            await peer.WaitForExitAsync(Ct);
        }
    }

    private static HashSet<string> Properties(JsonElement schema) =>
        schema.TryGetProperty("properties", out var properties) ? [.. properties.EnumerateObject().Select(p => p.Name)] : [];

    private static Process StartNode(params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = Interop, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("node did not start");
    }

    internal static async Task<string> RunNodeAsync(params string[] args)
    {
        using var node = StartNode(args);
        var stdout = node.StandardOutput.ReadToEndAsync(Ct);
        var stderr = node.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        using var kill = timeout.Token.Register(() => node.Kill(entireProcessTree: true));
        await node.WaitForExitAsync(Ct);
        Assert.True(node.ExitCode == 0, $"node {string.Join(' ', args)} exited {node.ExitCode}: {await stderr}");
        return (await stdout).Trim();
    }
}
