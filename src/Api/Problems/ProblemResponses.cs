using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Problems;

/// <summary>RFC 9457 problem details whose <c>type</c> is the stable error code, with the request id attached.</summary>
public static class ProblemResponses
{
    public static Task WriteAsync(HttpContext context, string code, int status, string detail, IDictionary<string, object?>? extensions = null)
    {
        context.Response.StatusCode = status;
        var problem = Create(code, status, detail, extensions);
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = problem,
        }).AsTask();
    }

    /// <summary>A problem result for minimal API handlers; <paramref name="retryAfter"/> sets the header on 429 and 503.</summary>
    public static ProblemResult Result(string code, int status, string detail, TimeSpan? retryAfter = null, IDictionary<string, object?>? extensions = null) =>
        new(Create(code, status, detail, extensions), retryAfter);

    public static ProblemDetails Create(string code, int status, string detail, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Type = code, Title = TitleOf(code), Status = status, Detail = detail };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[key] = value;
        }

        return problem;
    }

    /// <summary>The code for a status that no handler described (unknown route, unhandled exception).</summary>
    public static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ErrorCodes.InvalidArgument,
        StatusCodes.Status401Unauthorized => ErrorCodes.Unauthorized,
        StatusCodes.Status403Forbidden => ErrorCodes.Forbidden,
        StatusCodes.Status404NotFound => ErrorCodes.NotFound,
        StatusCodes.Status405MethodNotAllowed => ErrorCodes.MethodNotAllowed,
        StatusCodes.Status429TooManyRequests => ErrorCodes.RateLimited,
        StatusCodes.Status503ServiceUnavailable => ErrorCodes.Unavailable,
        _ => status >= 500 ? ErrorCodes.InternalError : ErrorCodes.InvalidArgument,
    };

    public static string TitleOf(string code) => code switch
    {
        ErrorCodes.Unauthorized => "Unauthorized",
        ErrorCodes.Forbidden => "Forbidden",
        ErrorCodes.NotFound => "Not found",
        ErrorCodes.MethodNotAllowed => "Method not allowed",
        ErrorCodes.RateLimited => "Rate limited",
        ErrorCodes.BudgetExceeded => "Budget exceeded",
        ErrorCodes.ConcurrencyLimit => "Concurrency limit reached",
        ErrorCodes.EmergencyShutdown => "Emergency shutdown active",
        ErrorCodes.SessionNotFound => "Session not found",
        ErrorCodes.InvalidArgument => "Invalid argument",
        ErrorCodes.Unavailable => "Service unavailable",
        ErrorCodes.StorageUnavailable => "Storage unavailable",
        ErrorCodes.SessionExpired => "Session expired",
        ErrorCodes.ToolNotAllowed => "Tool not allowed",
        ErrorCodes.UrlBlocked => "URL blocked",
        ErrorCodes.Timeout => "Timeout",
        ErrorCodes.BrowserError => "Browser error",
        _ => "Internal error",
    };
}

/// <summary>The one problem result of every handler (a typed <c>Results&lt;…, ProblemResult&gt;</c> arm), written by <see cref="ProblemResponses.WriteAsync"/>.</summary>
public sealed class ProblemResult(ProblemDetails problem, TimeSpan? retryAfter) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => problem.Status;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        if (retryAfter is { } wait)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ProblemResponses.WriteAsync(httpContext, problem.Type!, problem.Status!.Value, problem.Detail ?? "", problem.Extensions);
    }
}
