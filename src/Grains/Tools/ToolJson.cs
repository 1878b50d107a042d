using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// The one JSON convention of tool results: typed records, snake_case names by policy (never written by hand). The MCP
/// front serializes results and generates their output schemas with these options; the extract and run_task handlers
/// write their answers with them.
/// </summary>
public static class ToolJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}
