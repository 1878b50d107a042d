using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>A request the guard or the egress proxy stopped, in the words the agent gets: a stable code and the full message.</summary>
public sealed record NetworkFailure(string Code, string Message);

/// <summary>
/// One session's network verdicts, in words. Chromium decides everything a browser decides — which cookies go with
/// which request (SameSite, Secure, partitioning, the initiator's site), redirects, downloads — and the silo never
/// fetches for it: a launched Chromium sends every request (navigations, frames, popups, form posts, subresources,
/// WebSockets) through the egress proxy, which checks each request or tunnel against the policy, bounds the session's
/// bytes and records why it refused or failed one on the session's <see cref="EgressSession"/>. The guard turns
/// Chromium's bare <c>net::</c> error for such a request back into that reason (<see cref="FailureFor"/>), and hands
/// the session's overrun (budget spent, response cut off) to the next action (<see cref="TakeOverrun"/>).
/// A remote browser (<c>Browser:CdpEndpoint</c>) has no proxy: there the guard is its context's route handler and
/// checks the URL of every request, navigations included, before it continues — a check the browser's own DNS lookup
/// may then contradict (documented as outside the guarantee). Nothing is cached: each check resolves afresh.
/// </summary>
public sealed class NetworkGuard(UrlPolicy urls, IReadOnlyList<string> allowedHosts, EgressSession? egress)
{
    /// <summary>Chromium's errors for a request the proxy refused or failed (an unanswered close, a failed tunnel, a reset at the size limit).</summary>
    private static readonly string[] ProxyErrors =
    [
        "net::ERR_EMPTY_RESPONSE", "net::ERR_TUNNEL_CONNECTION_FAILED", "net::ERR_CONNECTION_RESET", "net::ERR_CONNECTION_CLOSED",
        "net::ERR_CONTENT_LENGTH_MISMATCH", "net::ERR_INCOMPLETE_CHUNKED_ENCODING", "net::ERR_PROXY_CONNECTION_FAILED",
    ];

    private readonly CancellationTokenSource _closed = new();
    private volatile NetworkFailure? _lastFailure;

    /// <summary>Whether the guard must be the context's route handler: only for a remote browser, which has no proxy.</summary>
    public bool Routes => egress is null;

    /// <summary>The most recent navigation the guard itself stopped (remote browser) since <see cref="Reset"/>.</summary>
    public NetworkFailure? LastFailure => _lastFailure;

    /// <summary>
    /// Why a request that failed with <paramref name="playwrightMessage"/> failed, when the guard or the egress proxy
    /// stopped it: the proxy's record for the URL's host:port (else its latest, a redirect's target), or null when
    /// Chromium's error is not one the proxy causes.
    /// </summary>
    public NetworkFailure? FailureFor(string playwrightMessage)
    {
        if (_lastFailure is { } stopped)
        {
            return stopped;
        }

        if (egress is null || !ProxyErrors.Any(e => playwrightMessage.Contains(e, StringComparison.Ordinal)))
        {
            return null;
        }

        var failure = egress.FailureFor(AuthorityIn(playwrightMessage));
        if (failure is not null)
        {
            egress.DropOverrun(failure); // Reported now, with the action that met it.
        }

        return failure;
    }

    /// <summary>The session's overrun not yet reported (its byte budget spent, a response cut off), once; null when there is none.</summary>
    public NetworkFailure? TakeOverrun() => egress?.TakeOverrun();

    /// <summary>The running action's token: a route check made during an action ends with it.</summary>
    public CancellationToken ActionToken { get; set; }

    /// <summary>A new action starts: earlier verdicts no longer explain its failures (an overrun not yet reported stays).</summary>
    public void Reset()
    {
        _lastFailure = null;
        egress?.ClearFailures();
    }

    /// <summary>Stops checks in flight (the session is closing).</summary>
    public void Close() => _closed.Cancel();

    /// <summary>The route handler of a remote browser's context: every http(s) request is checked before it continues.</summary>
    public async Task HandleAsync(IRoute route)
    {
        var request = route.Request;
        var url = request.Url;
        try
        {
            if (IsHttp(url) && await RefusalAsync(url) is { } refusal)
            {
                if (request.IsNavigationRequest)
                {
                    _lastFailure = new NetworkFailure(ErrorCodes.UrlBlocked, refusal);
                }

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

    private static bool IsHttp(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The host:port of the URL Playwright names (<c>net::ERR_… at http://…</c>), or null.</summary>
    private static string? AuthorityIn(string playwrightMessage)
    {
        var at = playwrightMessage.IndexOf(" at http", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = playwrightMessage[(at + 4)..];
        var end = rest.IndexOfAny([' ', '\n', '\r']);
        return Uri.TryCreate(end < 0 ? rest : rest[..end], UriKind.Absolute, out var url) ? EgressProxy.Authority(url.IdnHost, url.Port) : null;
    }

    /// <summary>Why the policy refuses <paramref name="url"/>'s host now, or null.</summary>
    private async Task<string?> RefusalAsync(string url)
    {
        var uri = new Uri(url);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token, ActionToken);
        try
        {
            await urls.VetAsync(uri.IdnHost, allowedHosts, limit.Token);
            return null;
        }
        catch (EgressFailure refused)
        {
            return $"url_blocked: {AnchorTracing.SafeUrl(url)} refused: {refused.Message}.";
        }
    }
}
