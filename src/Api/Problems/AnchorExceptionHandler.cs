using Anchor.Orleans.Grains.Interfaces.Errors;
using System.Text;
using System.Text.Json;
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
            case JsonException json when CarriesBody(httpContext.Request):
                // A handler that reads its body itself (the MCP transport, legacy SSE messages) met JSON that does not
                // parse or does not fit the message it expects.
                await ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, $"The request body is not the JSON this endpoint takes: {FirstLine(json.Message)}").ExecuteAsync(httpContext);
                return true;
            case InvalidOperationException { InnerException: DecoderFallbackException } when CarriesBody(httpContext.Request):
                // System.Text.Json reading a string of the body that is not UTF-8.
                await ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, "The request body is not valid UTF-8.").ExecuteAsync(httpContext);
                return true;
            default:
                return false;
        }
    }

    // A request whose method carries a body (an empty one included, which is no JSON either).
    private static bool CarriesBody(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method);

    // JSON messages end with a path and position that help; the exception's inner chain stays in no answer.
    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.RateLimited or ErrorCodes.ConcurrencyLimit => StatusCodes.Status429TooManyRequests,
        ErrorCodes.BudgetExceeded or ErrorCodes.ToolNotAllowed or ErrorCodes.UrlBlocked => StatusCodes.Status403Forbidden,
        ErrorCodes.EmergencyShutdown or ErrorCodes.StorageUnavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorCodes.SessionNotFound => StatusCodes.Status404NotFound,
        ErrorCodes.HumanInControl => StatusCodes.Status409Conflict,
        ErrorCodes.SessionExpired => StatusCodes.Status410Gone,
        ErrorCodes.InvalidArgument => StatusCodes.Status400BadRequest,
        ErrorCodes.Timeout => StatusCodes.Status504GatewayTimeout,
        ErrorCodes.BrowserError => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };
}
