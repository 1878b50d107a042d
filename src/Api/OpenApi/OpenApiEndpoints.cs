using Anchor.Orleans.Api.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Anchor.Orleans.Api.OpenApi;

/// <summary>
/// <c>/openapi/v1.json</c>: the HTTP API's OpenAPI document, for anyone (SPEC.md; it describes routes and shapes,
/// never data). It lists the operator endpoints and <c>/status</c>, described from their typed results, and the health
/// probes, which the health-check middleware serves and a transformer describes; not <c>/mcp</c> (MCP describes its
/// tools itself) nor the dashboard.
/// </summary>
public static class OpenApiEndpoints
{
    public const string DocumentPath = "/openapi/v1.json";

    private static readonly (string Path, string Summary)[] HealthPaths =
    [
        ("/health", "Every check: 200 when Healthy or Degraded, 503 when Unhealthy. Operators get timings, descriptions and data; anyone else status names only."),
        ("/health/ready", "The readiness checks (cluster, storage, drain, emergency switch), answered as /health."),
        ("/health/live", "Liveness: no check runs; 200 while the process serves."),
    ];

    public static IServiceCollection AddAnchorOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(o =>
        {
            o.ShouldInclude = description => IsOperatorSurface(description);
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Anchor.Orleans";
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer(DescribeHealthAsync);
        });

    public static IEndpointRouteBuilder MapAnchorOpenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentPath).AllowAnonymous();
        return endpoints;
    }

    private static bool IsOperatorSurface(ApiDescription description) =>
        description.RelativePath is { } path && (path == "status" || path.StartsWith("api/", StringComparison.Ordinal));

    private static async Task DescribeHealthAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var type in new[] { typeof(HealthResponse), typeof(HealthSummary) })
        {
            document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        }

        var answer = new OpenApiSchema
        {
            OneOf = [new OpenApiSchemaReference(nameof(HealthResponse), document), new OpenApiSchemaReference(nameof(HealthSummary), document)],
        };
        foreach (var (path, summary) in HealthPaths)
        {
            var operation = new OpenApiOperation
            {
                Summary = summary,
                Responses = new OpenApiResponses
                {
                    ["200"] = Json("Healthy or Degraded.", answer),
                    ["503"] = Json("Unhealthy.", answer),
                },
            };
            document.Paths[path] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
        }
    }

    private static OpenApiResponse Json(string description, IOpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
    };
}
