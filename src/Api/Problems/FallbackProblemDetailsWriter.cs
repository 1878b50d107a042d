using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Problems;

/// <summary>
/// Writes problem details when no other writer will (a client whose <c>Accept</c> names neither JSON nor <c>*/*</c>):
/// an error answer is problem details whatever the client prefers (RFC 9110 lets a server ignore <c>Accept</c> for
/// errors), rather than a failure to answer at all.
/// </summary>
public sealed class FallbackProblemDetailsWriter(IOptions<ProblemDetailsOptions> problems, IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        context.ProblemDetails.Status ??= context.HttpContext.Response.StatusCode;
        problems.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            context.ProblemDetails, json.Value.SerializerOptions, "application/problem+json", context.HttpContext.RequestAborted));
    }
}
