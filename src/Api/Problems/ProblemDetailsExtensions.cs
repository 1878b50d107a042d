using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Problems;

public static class ProblemDetailsExtensions
{
    /// <summary>Every error body is problem details with a stable code as <c>type</c> and the request id.</summary>
    public static IServiceCollection AddAnchorProblemDetails(this IServiceCollection services)
    {
        services.AddExceptionHandler<AnchorExceptionHandler>().AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var problem = ctx.ProblemDetails;
            var status = problem.Status ?? ctx.HttpContext.Response.StatusCode;
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
            {
                var code = ProblemResponses.CodeFor(status);
                problem.Type = code;
                problem.Title = ProblemResponses.TitleOf(code);
            }

            // Exception messages can carry anything (connection strings included): never send them.
            problem.Detail ??= status switch
            {
                StatusCodes.Status404NotFound => $"No endpoint at {ctx.HttpContext.Request.Path}.",
                StatusCodes.Status405MethodNotAllowed => $"{ctx.HttpContext.Request.Method} is not allowed here.",
                >= 500 => "The server failed to handle the request; the request id identifies it in the logs.",
                _ => null,
            };
            problem.Extensions.Remove("exception");
            problem.Extensions["request_id"] = ctx.HttpContext.TraceIdentifier;
        });

        // After the default writer, which declines when Accept names no JSON.
        services.AddSingleton<IProblemDetailsWriter, FallbackProblemDetailsWriter>();
        return services;
    }

    /// <summary>Unhandled exceptions and bodiless error statuses (unknown routes) become problem details.</summary>
    public static IApplicationBuilder UseAnchorProblemDetails(this IApplicationBuilder app) =>
        app.UseExceptionHandler().UseStatusCodePages();
}
