using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.Logging;

public static class LoggingExtensions
{
    /// <summary>JSON lines with scopes outside Development (for log shippers), readable text inside it.</summary>
    public static IHostApplicationBuilder AddAnchorLogging(this IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        if (builder.Environment.IsDevelopment())
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.IncludeScopes = true;
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSecretRedaction();
        return builder;
    }

    /// <summary>Every log line written while handling a request carries its <c>request_id</c> and <c>client_id</c>.</summary>
    public static IApplicationBuilder UseRequestLogScope(this IApplicationBuilder app) => app.UseMiddleware<RequestLogScopeMiddleware>();
}
