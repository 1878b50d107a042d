using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Anchor.Orleans.Api.Problems;

/// <summary>
/// A refusal that reaches HTTP becomes the problem details an operator or client expects: its stable code as
/// <c>type</c>, the matching status, and <c>Retry-After</c> where waiting helps. A request the server could not read
/// (a body that is not the JSON a route binds, too large, cut short) is the client's error, answered 400 (or 413, 408)
/// in one place for every route, never 500.
/// </summary>
public sealed class AnchorExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case AnchorException refusal:
                await ProblemResponses.Result(refusal.Code, StatusOf(refusal.Code), refusal.Message, refusal.RetryAfter).ExecuteAsync(httpContext);
                return true;
            case BadHttpRequestException bad:
                // Minimal-API binding failures (JSON that does not parse or fit the body's type, a wrong content type)
                // and Kestrel's body limits. The message describes the request, never server state.
                await ProblemResponses.Result(ProblemResponses.CodeFor(bad.StatusCode), bad.StatusCode, bad.Message).ExecuteAsync(httpContext);
                return true;
            default:
                return false;
        }
    }

    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.RateLimited or ErrorCodes.ConcurrencyLimit => StatusCodes.Status429TooManyRequests,
        ErrorCodes.BudgetExceeded or ErrorCodes.ToolNotAllowed or ErrorCodes.UrlBlocked => StatusCodes.Status403Forbidden,
        ErrorCodes.EmergencyShutdown or ErrorCodes.StorageUnavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorCodes.SessionNotFound => StatusCodes.Status404NotFound,
        ErrorCodes.SessionExpired => StatusCodes.Status410Gone,
        ErrorCodes.InvalidArgument => StatusCodes.Status400BadRequest,
        ErrorCodes.Timeout => StatusCodes.Status504GatewayTimeout,
        ErrorCodes.BrowserError => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };
}
