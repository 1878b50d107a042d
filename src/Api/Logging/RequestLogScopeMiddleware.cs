using Anchor.Orleans.Api.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Api.Logging;

/// <summary>
/// Opens the request's log scope after authentication, so the client id is known. The request id is the
/// trace identifier, echoed as <c>X-Request-Id</c> so a caller can quote it to an operator.
/// </summary>
public sealed class RequestLogScopeMiddleware(RequestDelegate next, ILogger<RequestLogScopeMiddleware> logger)
{
    public const string RequestIdHeader = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = context.TraceIdentifier;
        context.Response.Headers[RequestIdHeader] = requestId;
        var clientId = context.User.GetClientId() ?? "anonymous";
        using (logger.BeginScope(new Dictionary<string, object> { ["request_id"] = requestId, ["client_id"] = clientId }))
        {
            await next(context);
        }
    }
}
