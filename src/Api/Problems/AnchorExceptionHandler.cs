using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Anchor.Orleans.Api.Problems;

/// <summary>
/// A refusal that reaches HTTP becomes the problem details an operator or client expects: its stable code as
/// <c>type</c>, the matching status, and <c>Retry-After</c> where waiting helps.
/// </summary>
public sealed class AnchorExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not AnchorException refusal)
        {
            return false;
        }

        await ProblemResponses.Result(refusal.Code, StatusOf(refusal.Code), refusal.Message, refusal.RetryAfter).ExecuteAsync(httpContext);
        return true;
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
