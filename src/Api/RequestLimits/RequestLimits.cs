using System.ComponentModel.DataAnnotations;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.RequestLimits;

/// <summary>How large a request body may be (<c>Anchor:Http</c>); a larger one is refused with 413 while it streams.</summary>
public sealed class RequestLimitsOptions
{
    public const string SectionName = "Http";

    /// <summary>Body limit of every route that names no other (the operator endpoints). Default 1 MiB.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 1L << 20;

    /// <summary>Body limit of <c>POST /api/governance/import</c>: a backup holds every session of its periods. Default 256 MiB.</summary>
    [Range(1024, 4L << 30)]
    public long MaxImportBodyBytes { get; set; } = 256L << 20;
}

/// <summary>Which body limit an endpoint takes; endpoints without this metadata take the default.</summary>
public sealed record RequestBodyLimit(RequestBodyKind Kind)
{
    /// <summary>MCP messages (<c>/mcp</c>, <c>/message</c>): room for a <c>browser_file_upload</c> of <c>Browser:MaxUploadBytes</c> in base64.</summary>
    public static readonly RequestBodyLimit Mcp = new(RequestBodyKind.Mcp);

    /// <summary>A governance backup being restored.</summary>
    public static readonly RequestBodyLimit Import = new(RequestBodyKind.Import);
}

public enum RequestBodyKind
{
    Default,
    Mcp,
    Import,
}

public static class RequestLimitsExtensions
{
    /// <summary>Kestrel's own limit is the default body limit, so a request no route claims is held to it too.</summary>
    public static IServiceCollection AddAnchorRequestLimits(this IServiceCollection services)
    {
        services.AddAnchorOptions<RequestLimitsOptions>(RequestLimitsOptions.SectionName);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);
        return services;
    }

    /// <summary>After routing: sets the matched endpoint's body limit before anything reads the body.</summary>
    public static IApplicationBuilder UseAnchorRequestLimits(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            var services = context.RequestServices;
            var limits = services.GetRequiredService<IOptionsMonitor<RequestLimitsOptions>>().CurrentValue;
            feature.MaxRequestBodySize = context.GetEndpoint()?.Metadata.GetMetadata<RequestBodyLimit>()?.Kind switch
            {
                RequestBodyKind.Mcp => McpBodyBytes(services.GetRequiredService<IOptionsMonitor<BrowserOptions>>().CurrentValue.MaxUploadBytes, limits),
                RequestBodyKind.Import => limits.MaxImportBodyBytes,
                _ => limits.MaxRequestBodyBytes,
            };
        }

        return next(context);
    });

    /// <summary>An upload's files in base64 (4 bytes per 3) plus the default limit for the rest of the message.</summary>
    public static long McpBodyBytes(long maxUploadBytes, RequestLimitsOptions limits) => ((maxUploadBytes + 2) / 3 * 4) + limits.MaxRequestBodyBytes;
}
