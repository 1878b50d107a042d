using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using Xunit;

namespace Anchor.Orleans.Testing;

/// <summary>A silo with real Chromium and the fixture pages, shared by a test class; agents connect with the MCP SDK client.</summary>
public class BrowserAppFixture : IAsyncLifetime
{
    private readonly List<McpClient> _clients = [];

    public FixtureSite Site { get; } = new();

    public AnchorAppHost Host { get; private set; } = null!;

    /// <summary>Settings every browser test silo uses; a fixture may add its own.</summary>
    public static Dictionary<string, string?> BaseSettings(params (string Key, string? Value)[] extra)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Browser:AllowedHosts:0"] = FixtureSite.Host;
        settings["Anchor:Sessions:MaxConcurrent"] = "10";
        settings["Anchor:Sessions:MaxPerClient"] = "5";
        settings["Anchor:Browser:ElementTimeoutSeconds"] = "2";
        // No refusals for load: tests on two busy cores would trip a 90 % threshold at random (load tests set their own).
        settings["Anchor:Sessions:MaxCpuPercent"] = "100";
        settings["Anchor:Sessions:MaxMemoryPercent"] = "100";
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    protected virtual Dictionary<string, string?> Settings() => BaseSettings();

    public virtual async ValueTask InitializeAsync()
    {
        await Site.InitializeAsync();
        Host = await AnchorAppHost.StartAsync(Settings());
    }

    /// <summary>Browser-session grain activations alive in the silo (open sessions, and any that leaked).</summary>
    public async Task<int> SessionActivationsAsync()
    {
        var stats = await Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return stats.Where(s => s.GrainType.Contains("BrowserSessionGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }

    /// <summary>Connects an agent and opens a named session for it.</summary>
    public async Task<(McpClient Client, string SessionId)> OpenSessionAsync(string apiKey = TestKeys.Agent)
    {
        var client = await ConnectAsync(apiKey);
        var created = await client.CallAsync("browser_session_create");
        return created.IsError == true
            ? throw new InvalidOperationException($"browser_session_create failed: {created.Text()}")
            : (client, created.Json().GetProperty("session_id").GetString()!);
    }

    public async Task<McpClient> ConnectAsync(string apiKey = TestKeys.Agent, HttpTransportMode mode = HttpTransportMode.StreamableHttp)
    {
        var client = await McpTestClient.ConnectAsync(Host, apiKey, mode);
        _clients.Add(client);
        return client;
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Host.DisposeAsync();
        await Site.DisposeAsync();
    }
}
