using System.Diagnostics;
using System.Globalization;
using Anchor.Orleans.Testing;
using ModelContextProtocol.Client;

namespace Anchor.Orleans.Bench.Shared;

/// <summary>
/// The peer: <c>@playwright/mcp</c> from tests/interop/node_modules (pinned by its lock file) on a free loopback port,
/// with the same Debian Chromium, headless, isolated (a fresh in-memory profile), connected with the C# MCP client.
/// It answers only <c>Host: localhost:&lt;port&gt;</c>.
/// </summary>
public sealed class PeerMcp : IAsyncDisposable
{
    private readonly Process _node;

    private readonly string _workspace;

    private PeerMcp(Process node, string workspace, McpClient client, string version)
    {
        _node = node;
        _workspace = workspace;
        Client = client;
        Version = version;
    }

    public McpClient Client { get; }

    /// <summary>The peer's node process (its Chromium runs below it).</summary>
    public int ProcessId => _node.Id;

    /// <summary>The peer's package version, from its package.json.</summary>
    public string Version { get; }

    public static string PackageDirectory => Repository.PathOf("tests", "interop", "node_modules", "@playwright", "mcp");

    public static string PackageVersion()
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(PackageDirectory, "package.json")));
        return json.RootElement.GetProperty("version").GetString() ?? "?";
    }

    public static async Task<PeerMcp> StartAsync()
    {
        if (!File.Exists(Path.Combine(PackageDirectory, "cli.js")))
        {
            throw new InvalidOperationException("@playwright/mcp is not installed: run (cd tests/interop && npm ci) first.");
        }

        var port = FreePorts.Next();
        // The peer writes the snapshots of its actions to files in its output directory: a scratch one, not the repo.
        var workspace = Directory.CreateTempSubdirectory("bench-peer-").FullName;
        var start = new ProcessStartInfo("node") { WorkingDirectory = workspace, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(PackageDirectory, "cli.js"), "--port", port.ToString(CultureInfo.InvariantCulture), "--headless", "--isolated", "--no-sandbox", "--executable-path", "/usr/bin/chromium", "--output-dir", workspace })
        {
            start.ArgumentList.Add(arg);
        }

        var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        node.OutputDataReceived += (_, _) => { };
        node.ErrorDataReceived += (_, _) => { };
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        try
        {
            // Poll retries while the port is not yet listening.
            var client = await Poll.UntilAsync(
                () => McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri($"http://localhost:{port}/mcp") })),
                _ => true,
                TimeSpan.FromSeconds(60),
                "@playwright/mcp to answer");
            return new PeerMcp(node, workspace, client, PackageVersion());
        }
        catch
        {
            node.Kill(entireProcessTree: true);
            node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The snapshot an action answered with: inline, or — as this peer answers actions other than
    /// <c>browser_snapshot</c> — the file its <c>[Snapshot](path)</c> link names.
    /// </summary>
    public string SnapshotOf(string answer)
    {
        var link = System.Text.RegularExpressions.Regex.Match(answer, @"\[Snapshot\]\(([^)]+)\)");
        return link.Success ? File.ReadAllText(Path.Combine(_workspace, link.Groups[1].Value)) : answer;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        if (!_node.HasExited)
        {
            _node.Kill(entireProcessTree: true);
            await _node.WaitForExitAsync();
        }

        _node.Dispose();
        Directory.Delete(_workspace, recursive: true);
    }
}
