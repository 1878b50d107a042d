using System.Text.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Structured results of the browser tools that answer with JSON (<see cref="BrowserToolAttribute.Output"/>): their
/// <c>outputSchema</c> is generated from the declared record with <see cref="ToolJson.Options"/>, and their answer's
/// JSON, which the page handler wrote from that record, is also given as <c>structuredContent</c>.
/// </summary>
public static class StructuredResults
{
    // A dictionary's values may be null (extracted fields that matched nothing): the generator cannot see the nullability
    // of a generic argument, and would say they are never null.
    private static readonly AIJsonSchemaCreateOptions Inference = new()
    {
        TransformOptions = new AIJsonSchemaTransformOptions
        {
            TransformSchemaNode = static (context, node) =>
            {
                if (context.IsDictionaryValueSchema && node is JsonObject schema && schema["type"] is JsonValue type && type.GetValue<string>() != "null")
                {
                    schema["type"] = new JsonArray(type.GetValue<string>(), "null");
                }

                return node;
            },
        },
    };

    /// <summary>The output schema of <paramref name="output"/> as its results are written.</summary>
    public static JsonElement SchemaOf(Type output) => AIJsonUtilities.CreateJsonSchema(output, serializerOptions: ToolJson.Options, inferenceOptions: Inference);

    /// <summary>Serves <paramref name="tool"/> with its answer's JSON also as <c>structuredContent</c>.</summary>
    public static McpServerTool WithStructuredContent(McpServerTool tool) => new StructuredTool(tool);

    /// <summary>
    /// The JSON of a text answer. It is the answer's last line: the handler writes it on one line, and the session
    /// may put a note before it (a restore on another silo). Null when there is none.
    /// </summary>
    public static JsonElement? JsonOf(CallToolResult result)
    {
        if (result.IsError is true || result.Content.OfType<TextContentBlock>().FirstOrDefault() is not { } text)
        {
            return null;
        }

        var json = text.Text[(text.Text.LastIndexOf('\n') + 1)..];
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class StructuredTool(McpServerTool tool) : DelegatingMcpServerTool(tool)
    {
        public override async ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default)
        {
            var result = await base.InvokeAsync(request, cancellationToken);
            result.StructuredContent ??= JsonOf(result);
            return result;
        }
    }
}
