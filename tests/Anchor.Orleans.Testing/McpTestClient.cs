using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Testing;

/// <summary>The official C# MCP SDK client, connected to a test host with an API key.</summary>
public static class McpTestClient
{
    /// <summary>The newest revision with the <c>initialize</c> handshake (and so an <c>Mcp-Session-Id</c>), as most clients in use speak.</summary>
    public const string InitializeRevision = "2025-11-25";

    public static Task<McpClient> ConnectAsync(AnchorAppHost host, string apiKey, HttpTransportMode mode = HttpTransportMode.StreamableHttp) =>
        ConnectAsync(host.BaseAddress, apiKey, mode);

    /// <param name="protocolVersion">Pin a revision (e.g. <see cref="InitializeRevision"/>); null negotiates the newest.</param>
    public static async Task<McpClient> ConnectAsync(Uri baseAddress, string apiKey, HttpTransportMode mode = HttpTransportMode.StreamableHttp, string? protocolVersion = null)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(baseAddress, mode == HttpTransportMode.Sse ? "sse" : "mcp"),
            TransportMode = mode,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {apiKey}" },
        });
        return await McpClient.CreateAsync(transport, new McpClientOptions { ClientInfo = new() { Name = "anchor-tests", Version = "1.0" }, ProtocolVersion = protocolVersion });
    }

    public static Task<CallToolResult> CallAsync(this McpClient client, string tool, object? arguments = null) =>
        client.CallToolAsync(
            tool,
            arguments is null ? new Dictionary<string, object?>() : JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!,
            cancellationToken: Xunit.TestContext.Current.CancellationToken).AsTask();

    /// <summary>The text of the first text item.</summary>
    public static string Text(this CallToolResult result) => result.Content.OfType<TextContentBlock>().First().Text;

    public static JsonElement Json(this CallToolResult result) => JsonDocument.Parse(result.Text()).RootElement.Clone();
}
