using System.Text.RegularExpressions;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Recording;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Recording;

/// <summary>Operators download a recorded session's Playwright trace (<c>Anchor:Clients:&lt;id&gt;:Recording</c> = <c>trace</c>).</summary>
public static partial class RecordingApi
{
    /// <summary>Response header saying whether the size cap cut the trace short (<c>true</c>/<c>false</c>).</summary>
    public const string TruncatedHeader = "Anchor-Trace-Truncated";

    public static IEndpointRouteBuilder MapRecordingApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/sessions/{sessionId}/trace.zip", DownloadAsync)
            .RequireAuthorization(AuthPolicies.Operator)
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<Results<FileContentHttpResult, ProblemResult>> DownloadAsync(
        string sessionId, ISessionRecordings recordings, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await recordings.ReadTraceAsync(sessionId, cancellationToken) is not { } trace)
        {
            return ProblemResponses.Result(
                ErrorCodes.NotFound,
                StatusCodes.Status404NotFound,
                $"No recorded trace for session '{sessionId}': its client does not record, it is still open on its first silo, or its trace expired.");
        }

        return TraceFile(response, sessionId, trace);
    }

    /// <summary>A recorded trace as a download (the API's and the console's), with <see cref="TruncatedHeader"/>.</summary>
    internal static FileContentHttpResult TraceFile(HttpResponse response, string sessionId, SessionTrace trace)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers[TruncatedHeader] = trace.Truncated ? "true" : "false";
        return TypedResults.File(trace.Zip, "application/zip", $"trace-{UnsafeFileCharacters().Replace(sessionId, "_")}.zip");
    }

    [GeneratedRegex("[^A-Za-z0-9_-]")]
    private static partial Regex UnsafeFileCharacters();
}
