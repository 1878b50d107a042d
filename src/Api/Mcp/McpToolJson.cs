using System.Text.Json;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The JSON options a host's MCP tools are created with: a copy per host, never a process-wide instance. The tool
/// factory caches each tool's reflection descriptor in a table keyed by the serializer options, and the descriptor
/// holds the tool's create options and with them the host's services; keyed by a shared static instance, every
/// stopped host stayed reachable for the life of the process (the test suites start a hundred hosts in one).
/// </summary>
internal static class McpToolJson
{
    public static JsonSerializerOptions ForThisHost(JsonSerializerOptions shared)
    {
        var options = new JsonSerializerOptions(shared);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
