using System.Diagnostics;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Playwright;
using IRequest = Microsoft.Playwright.IRequest;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>A navigation the guard stopped, in the words the agent gets: a stable code and the full message.</summary>
public sealed record NetworkFailure(string Code, string Message);

/// <summary>
/// The route handler of one session's context. Navigations (top-level, frames, popups) are fetched by the
/// <see cref="NavigationFetcher"/> (bounded in size and time, connected only to checked addresses), so a refused or
/// failed navigation is named at once instead of waiting out the navigation timeout, and a redirect is checked before
/// the browser may follow it (Chromium follows it by itself, without this route, through the proxy). Every other request continues to the browser's network, which for a
/// launched Chromium is the egress proxy: the policy is enforced there, at connect time, for each connection
/// (WebSockets and WebRTC included, which never pass a route). A remote browser has no proxy; its other requests are
/// checked here before they continue — a check the browser's own DNS lookup may then contradict (documented as
/// outside the guarantee). Nothing is cached: each check resolves afresh.
/// </summary>
public sealed class NetworkGuard(IBrowserContext context, UrlPolicy urls, NavigationFetcher fetcher, IReadOnlyList<string> allowedHosts, TimeSpan fetchLimit, EgressSession? egress)
{
    private readonly CancellationTokenSource _closed = new();
    private volatile NetworkFailure? _lastFailure;

    /// <summary>The most recent navigation the guard stopped since <see cref="Reset"/>.</summary>
    public NetworkFailure? LastFailure => _lastFailure;

    /// <summary>
    /// Why a navigation that failed with <paramref name="playwrightMessage"/> failed, when the guard or the egress proxy
    /// stopped it. A navigation Chromium continued by itself (a redirect it followed) meets the proxy, whose refusals
    /// show as an empty response or a failed tunnel.
    /// </summary>
    public NetworkFailure? FailureFor(string playwrightMessage) =>
        _lastFailure
        ?? (egress?.LastRefusal is { } refusal && (playwrightMessage.Contains("net::ERR_EMPTY_RESPONSE", StringComparison.Ordinal) || playwrightMessage.Contains("net::ERR_TUNNEL_CONNECTION_FAILED", StringComparison.Ordinal))
            ? new NetworkFailure(ErrorCodes.UrlBlocked, refusal)
            : null);

    /// <summary>The running action's token: a navigation fetch ends with the action that caused it.</summary>
    public CancellationToken ActionToken { get; set; }

    /// <summary>The running action's span: route events arrive on Playwright's connection, outside it, so a fetch's span names its parent.</summary>
    public ActivityContext ActionSpan { get; set; }

    public void Reset()
    {
        _lastFailure = null;
        if (egress is not null)
        {
            egress.LastRefusal = null;
        }
    }

    /// <summary>Stops fetches in flight (the session is closing).</summary>
    public void Close() => _closed.Cancel();

    public async Task HandleAsync(IRoute route)
    {
        var request = route.Request;
        var url = request.Url;
        try
        {
            if (!IsHttp(url))
            {
                await route.ContinueAsync();
                return;
            }

            if (request.IsNavigationRequest)
            {
                await FetchNavigationAsync(route, request, url);
                return;
            }

            if (egress is null && await RefusalAsync(url) is not null)
            {
                await route.AbortAsync("blockedbyclient");
                return;
            }

            await route.ContinueAsync();
        }
        catch (PlaywrightException)
        {
            // The page or context went away while the request was handled; nothing is waiting for it any more.
        }
    }

    private async Task FetchNavigationAsync(IRoute route, IRequest request, string url)
    {
        // Cookies read, the fetch, and the hand-over to the browser: what a navigation costs beyond Chromium's own work.
        using var activity = AnchorTracing.Source.StartActivity("navigation fetch", ActivityKind.Internal, ActionSpan);
        activity?.SetTag("url.full", AnchorTracing.SafeUrl(url));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token, ActionToken);
        limit.CancelAfter(fetchLimit);
        FetchedResponse response;
        try
        {
            var cookies = await context.CookiesAsync([url]).WaitAsync(limit.Token);
            var cookieHeader = string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}"));
            response = await fetcher.FetchAsync(request.Method, new Uri(url), request.Headers, cookieHeader, request.PostDataBuffer, allowedHosts, limit.Token);
        }
        catch (EgressFailure failure)
        {
            var message = failure.Code == ErrorCodes.UrlBlocked
                ? $"url_blocked: {AnchorTracing.SafeUrl(url)} refused: {failure.Message}."
                : $"browser_error: navigation to {AnchorTracing.SafeUrl(url)} failed: {failure.Message}.";
            await StopAsync(route, request, new NetworkFailure(failure.Code, message), failure.AbortCode);
            return;
        }
        catch (OperationCanceledException)
        {
            await route.AbortAsync("timedout");
            return;
        }

        if (response.Status is >= 300 and < 400
            && response.Headers.FirstOrDefault(h => h.Key.Equals("location", StringComparison.OrdinalIgnoreCase)).Value is { } location
            && Uri.TryCreate(new Uri(url), location, out var target)
            && IsHttp(target.AbsoluteUri)
            && await RefusalAsync(target.AbsoluteUri) is { } redirectRefusal)
        {
            await StopAsync(route, request, new NetworkFailure(ErrorCodes.UrlBlocked, redirectRefusal), "blockedbyclient");
            return;
        }

        activity?.SetTag("http.response.status_code", response.Status);
        await route.FulfillAsync(new RouteFulfillOptions { Status = response.Status, Headers = response.Headers, BodyBytes = response.Body });
    }

    private async Task StopAsync(IRoute route, IRequest request, NetworkFailure failure, string abortCode)
    {
        if (request.IsNavigationRequest)
        {
            _lastFailure = failure;
        }

        await route.AbortAsync(abortCode);
    }

    private static bool IsHttp(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the policy refuses <paramref name="url"/>'s host now, or null.</summary>
    private async Task<string?> RefusalAsync(string url)
    {
        var uri = new Uri(url);
        try
        {
            await urls.VetAsync(uri.IdnHost, allowedHosts, _closed.Token);
            return null;
        }
        catch (EgressFailure refused)
        {
            return $"url_blocked: {AnchorTracing.SafeUrl(url)} refused: {refused.Message}.";
        }
    }
}
