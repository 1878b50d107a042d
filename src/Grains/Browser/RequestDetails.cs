using System.Text;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Playwright;
using IRequest = Microsoft.Playwright.IRequest;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// One request in full for <c>browser_network_request</c>, worded as <c>@playwright/mcp</c> words it: a summary with
/// both header sets, or one part (request-headers, request-body, response-headers, response-body). Bounded: bodies
/// show at most <see cref="MaxBodyBytes"/>, binary bodies only their size. Credentials in headers (cookies,
/// authorization, API keys, CSRF tokens: every <see cref="CredentialMasking"/> name) and credential-named fields of request bodies
/// are shown masked: results go into an agent's context, and from there into logs and transcripts.
/// </summary>
public static class RequestDetails
{
    public const int MaxBodyBytes = 64 * 1024;

    public static readonly IReadOnlyList<string> Parts = ["request-headers", "request-body", "response-headers", "response-body"];

    public static async Task<string> DescribeAsync(RequestEntry entry, string? part, ActionDeadline deadline)
    {
        if (part is not null && !Parts.Contains(part))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"part must be one of {string.Join(", ", Parts)} (got '{part}').");
        }

        var request = entry.Source ?? throw new AnchorException(ErrorCodes.InvalidArgument, $"request #{entry.Number} is no longer held; list them again with browser_network_requests.");
        var response = await deadline.Bound(request.ResponseAsync());
        return part switch
        {
            "request-headers" => Headers(await deadline.Bound(request.AllHeadersAsync())),
            "request-body" => request.PostDataBuffer is { } posted ? RequestBody(posted, await deadline.Bound(request.HeaderValueAsync("content-type"))) : "(no request body)",
            "response-headers" => response is null ? "(no response)" : Headers(await deadline.Bound(response.AllHeadersAsync())),
            "response-body" => response is null ? "(no response)" : await ResponseBodyAsync(response, deadline),
            _ => await SummaryAsync(entry, request, response, deadline),
        };
    }

    private static async Task<string> SummaryAsync(RequestEntry entry, IRequest request, IResponse? response, ActionDeadline deadline)
    {
        var text = new StringBuilder($"#{entry.Number} [{entry.Method}] {entry.Url}\n\n  General\n");
        text.Append("    status:    ").Append(response is null ? $"[FAILED] {request.Failure}" : $"[{response.Status}] {response.StatusText}").Append('\n');
        text.Append("    type:      ").Append(entry.ResourceType).Append('\n');
        var responseHeaders = response is null ? null : await deadline.Bound(response.AllHeadersAsync());
        if (responseHeaders?.GetValueOrDefault("content-type") is { } contentType)
        {
            text.Append("    mimeType:  ").Append(contentType.Split(';')[0].Trim()).Append('\n');
        }

        Section(text, "Request headers", await deadline.Bound(request.AllHeadersAsync()));
        if (responseHeaders is not null)
        {
            Section(text, "Response headers", responseHeaders);
        }

        var hints = new List<string>();
        if (request.PostDataBuffer is { Length: > 0 })
        {
            hints.Add("Call browser_network_request with part=\"request-body\" to read the request body.");
        }

        if (response is not null && response.Status is not (204 or 304) && response.Status >= 200)
        {
            hints.Add("Call browser_network_request with part=\"response-body\" to read the response body.");
        }

        if (hints.Count > 0)
        {
            text.Append('\n').AppendJoin('\n', hints);
        }

        return text.ToString().TrimEnd();
    }

    private static void Section(StringBuilder text, string title, Dictionary<string, string> headers)
    {
        text.Append("\n  ").Append(title).Append('\n');
        foreach (var (name, value) in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.Append("    ").Append(name).Append(": ").Append(Mask(name, value)).Append('\n');
        }
    }

    private static string Headers(Dictionary<string, string> headers) =>
        string.Join('\n', headers.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}: {Mask(h.Key, h.Value)}"));

    private static string Mask(string name, string value) => CredentialMasking.MaskHeader(name, value);

    /// <summary>A request body as sent, with credential-named form fields hidden (a multipart form is shown as text too).</summary>
    public static string RequestBody(byte[] body, string? contentType)
    {
        if (body.Length == 0 || !(IsText(contentType) || IsMultipartForm(contentType)))
        {
            return Body(body, contentType);
        }

        var shown = CredentialMasking.MaskBody(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxBodyBytes)), contentType);
        return body.Length > MaxBodyBytes ? $"{shown}\n… (first {MaxBodyBytes} of {body.Length} bytes shown)" : shown;
    }

    private static bool IsMultipartForm(string? contentType) => contentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    private static async Task<string> ResponseBodyAsync(IResponse response, ActionDeadline deadline)
    {
        byte[] body;
        try
        {
            body = await deadline.Bound(response.BodyAsync());
        }
        catch (PlaywrightException)
        {
            return "(the response body is no longer available: redirects have none, and the browser drops bodies of earlier pages)";
        }

        return Body(body, await deadline.Bound(response.HeaderValueAsync("content-type")));
    }

    private static string Body(byte[] body, string? contentType)
    {
        if (body.Length == 0)
        {
            return "(empty body)";
        }

        if (!IsText(contentType))
        {
            return $"(binary body of {body.Length} bytes, {contentType ?? "no content type"}; not shown)";
        }

        var shown = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxBodyBytes));
        return body.Length > MaxBodyBytes ? $"{shown}\n… (first {MaxBodyBytes} of {body.Length} bytes shown)" : shown;
    }

    private static bool IsText(string? contentType) =>
        contentType is { } t && (t.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
            || t.Contains("json", StringComparison.OrdinalIgnoreCase) || t.Contains("xml", StringComparison.OrdinalIgnoreCase)
            || t.Contains("javascript", StringComparison.OrdinalIgnoreCase) || t.Contains("x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase));
}
