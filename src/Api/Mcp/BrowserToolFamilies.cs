using System.Reflection;
using System.Text.Json;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Serves the browser tool families (<see cref="IBrowserToolFamily"/>): each method marked
/// <see cref="BrowserToolAttribute"/> becomes an MCP tool whose schema the SDK reads from its parameters, whose
/// annotations come from its declaration (read-only exactly when its action does not change the page), and whose
/// facts enter the <see cref="ToolCatalogue"/>; a tool that declares its <see cref="BrowserToolAttribute.Output"/> has
/// that record's <c>outputSchema</c> and answers with <c>structuredContent</c> too. A call creates the family with an <see cref="McpToolCall"/>.
/// </summary>
public static class BrowserToolFamilies
{
    public static IMcpServerBuilder WithBrowserToolFamilies(this IMcpServerBuilder builder)
    {
        var json = McpToolJson.ForThisHost(McpJsonUtilities.DefaultOptions);
        foreach (var family in BrowserToolTable.Families)
        {
            // Built once per family: a call then creates the family without matching constructors again.
            var create = ActivatorUtilities.CreateFactory(family, [typeof(ToolCall)]);
            foreach (var method in family.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (method.GetCustomAttribute<BrowserToolAttribute>() is not { } tool)
                {
                    continue;
                }

                builder.Services.AddSingleton(tool.Facts);
                var output = tool.Output is { } type ? StructuredResults.SchemaOf(type) : (JsonElement?)null;
                builder.Services.AddSingleton(services =>
                {
                    var served = McpServerTool.Create(
                        method,
                        request => create(request.Services!, [new McpToolCall(request, request.Services!.GetRequiredService<BrowserTools>())]),
                        new McpServerToolCreateOptions
                        {
                            Services = services,
                            SerializerOptions = json,
                            Name = tool.Name,
                            Title = tool.Title,
                            OpenWorld = true,
                            ReadOnly = tool.ReadOnly,
                            UseStructuredContent = output is not null,
                            OutputSchema = output,
                        });
                    return output is null ? served : StructuredResults.WithStructuredContent(served);
                });
            }
        }

        return builder;
    }
}

/// <summary>One MCP tool call as a family sees it: the action runs in the caller's session and answers as MCP content.</summary>
internal sealed class McpToolCall(RequestContext<CallToolRequestParams> request, BrowserTools browser) : ToolCall
{
    public override string ClientId => ToolContext.ClientIdOf(request.User);

    public override Task<ActionResult> ExecuteAsync(string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        browser.ExecuteAsync(request, sessionId, action, cancellationToken);

    public override object Text(string text) => ToolResults.Text(text);

    public override object Image(ActionResult result) => new CallToolResult
    {
        Content =
        [
            new TextContentBlock { Text = result.Text },
            ImageContentBlock.FromBytes(result.Png ?? [], "image/png"),
        ],
    };

    public override object Pdf(ActionResult result, string name) => new CallToolResult
    {
        Content =
        [
            new TextContentBlock { Text = result.Text },
            new EmbeddedResourceBlock { Resource = BlobResourceContents.FromBytes(result.Pdf ?? [], $"anchor://pdf/{Uri.EscapeDataString(name)}", "application/pdf") },
        ],
    };

    public override object Download(ActionResult result) => new CallToolResult
    {
        Content =
        [
            new TextContentBlock { Text = result.Text },
            .. (result.Downloads ?? []).Take(1).Select(d => new EmbeddedResourceBlock
            {
                Resource = BlobResourceContents.FromBytes(result.DownloadContent ?? [], $"anchor://download/{d.Index}/{Uri.EscapeDataString(d.Name)}", d.Type),
            }),
        ],
    };
}
