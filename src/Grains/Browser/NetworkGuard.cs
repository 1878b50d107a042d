using System.Collections.Concurrent;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Playwright;
using IRequest = Microsoft.Playwright.IRequest;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>A navigation the guard stopped, in the words the agent gets: a stable code and the full message.</summary>
public sealed record NetworkFailure(string Code, string Message);

/// <summary>
/// The route handler of one session's context. Every request the page makes passes the URL policy, not only the
/// URLs agents name: a link or an embedded resource pointing at a private or metadata address is aborted like a
/// direct navigation. Navigations are fetched by the <see cref="NavigationFetcher"/> (bounded in size and time,
/// connected only to checked addresses), so a redirect is checked before the browser may follow it and a failure is
/// named at once instead of waiting out the navigation timeout. Verdicts are cached per origin for the session.
/// </summary>
public sealed class NetworkGuard(IBrowserContext context, UrlPolicy urls, NavigationFetcher fetcher, IReadOnlyList<string> allowedHosts, TimeSpan fetchLimit)
{
    private readonly ConcurrentDictionary<string, string?> _verdicts = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _closed = new();
    private volatile NetworkFailure? _lastFailure;

    /// <summary>The most recent navigation the guard stopped since <see cref="Reset"/>.</summary>
    public NetworkFailure? LastFailure => _lastFailure;

    /// <summary>The running action's token: a navigation fetch ends with the action that caused it.</summary>
    public CancellationToken ActionToken { get; set; }

    public void Reset() => _lastFailure = null;

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

            if (await RefusalAsync(url) is { } refusal)
            {
                await StopAsync(route, request, new NetworkFailure(ErrorCodes.UrlBlocked, refusal), "blockedbyclient");
                return;
            }

            if (!request.IsNavigationRequest)
            {
                await route.ContinueAsync();
                return;
            }

            await FetchNavigationAsync(route, request, url);
        }
        catch (PlaywrightException)
        {
            // The page or context went away while the request was handled; nothing is waiting for it any more.
        }
    }

    private async Task FetchNavigationAsync(IRoute route, IRequest request, string url)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token, ActionToken);
        limit.CancelAfter(fetchLimit);
        FetchedResponse response;
        try
        {
            var cookies = await context.CookiesAsync([url]).WaitAsync(limit.Token);
            var cookieHeader = string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}"));
            response = await fetcher.FetchAsync(request.Method, new Uri(url), request.Headers, cookieHeader, request.PostDataBuffer, allowedHosts, limit.Token);
        }
        catch (NavigationFailure failure)
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

    /// <summary>Why the policy refuses <paramref name="url"/>'s origin, or null; cached per origin for the session.</summary>
    private async Task<string?> RefusalAsync(string url)
    {
        var origin = new Uri(url).GetLeftPart(UriPartial.Authority);
        if (!_verdicts.TryGetValue(origin, out var refusal))
        {
            try
            {
                await urls.CheckAsync(origin, allowedHosts, _closed.Token);
                refusal = null;
            }
            catch (AnchorException ex) when (ex.Code == ErrorCodes.UrlBlocked)
            {
                refusal = ex.Message;
            }

            _verdicts[origin] = refusal;
        }

        return refusal?.Replace(origin, AnchorTracing.SafeUrl(url), StringComparison.Ordinal);
    }
}
