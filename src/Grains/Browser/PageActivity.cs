using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Playwright;
using IRequest = Microsoft.Playwright.IRequest;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>One console message, with the navigation it happened under.</summary>
public sealed record ConsoleEntry(string Level, string Text, string Url, int Navigation);

/// <summary>
/// One request a page made: method, URL without query, resource type and how it ended; <see cref="Number"/> counts the
/// navigation's requests from 1 (what <c>browser_network_requests</c> prints), <see cref="Source"/> reads its details.
/// </summary>
public sealed record RequestEntry(string Method, string Url, string ResourceType, string Outcome, int Navigation, int Number = 0, IRequest? Source = null);

/// <summary>
/// What one page logged and requested, for <c>browser_console_messages</c> and <c>browser_network_requests</c>.
/// A navigation of the page's main frame starts a new chapter (its document request included). Bounded: the oldest entries go first past <see cref="Capacity"/> each. URLs keep
/// no query string (they may carry tokens). Playwright raises these events on its own thread: guarded by a lock.
/// </summary>
public sealed class PageActivity
{
    public const int Capacity = 500;

    private static readonly string[] Levels = ["error", "warning", "info", "debug"];

    private readonly Lock _gate = new();
    private readonly LinkedList<ConsoleEntry> _console = [];
    private readonly LinkedList<RequestEntry> _requests = [];
    private int _navigation;
    private int _requestNumber;

    public void Watch(IPage page)
    {
        page.Console += (_, message) => AddConsole(Level(message.Type), message.Text, page.Url);
        page.PageError += (_, error) => AddConsole("error", $"Uncaught {error}", page.Url);
        page.Request += (_, request) =>
        {
            if (request.IsNavigationRequest && request.Frame.ParentFrame is null)
            {
                lock (_gate)
                {
                    _navigation++;
                    _requestNumber = 0;
                }
            }
        };
        page.Response += (_, response) => AddRequest(response.Request, $"{response.Status} {response.StatusText}".Trim());
        page.RequestFailed += (_, request) => AddRequest(request, $"failed: {request.Failure}");
    }

    /// <summary>Console messages at <paramref name="level"/> or more severe, since the last navigation unless <paramref name="all"/>.</summary>
    public IReadOnlyList<ConsoleEntry> Console(string level, bool all)
    {
        var rank = Array.IndexOf(Levels, level);
        lock (_gate)
        {
            return [.. _console.Where(e => (all || e.Navigation == _navigation) && Array.IndexOf(Levels, e.Level) <= rank)];
        }
    }

    /// <summary>Requests since the last navigation, without successful static resources unless <paramref name="includeStatic"/>.</summary>
    public IReadOnlyList<RequestEntry> Requests(bool includeStatic)
    {
        lock (_gate)
        {
            return [.. _requests.Where(r => r.Navigation == _navigation && (includeStatic || !IsStatic(r)))];
        }
    }

    /// <summary>The request numbered <paramref name="number"/> since the last navigation, if it is still held.</summary>
    public RequestEntry? Request(int number)
    {
        lock (_gate)
        {
            return _requests.LastOrDefault(r => r.Navigation == _navigation && r.Number == number);
        }
    }

    public static bool IsKnownLevel(string level) => Levels.Contains(level);

    private static bool IsStatic(RequestEntry r) =>
        r.ResourceType is "image" or "font" or "stylesheet" or "script" or "media" or "manifest" && !r.Outcome.StartsWith("failed", StringComparison.Ordinal)
        && !r.Outcome.StartsWith('4') && !r.Outcome.StartsWith('5');

    private static string Level(string type) => type switch
    {
        "error" or "assert" => "error",
        "warning" => "warning",
        "debug" or "trace" => "debug",
        _ => "info",
    };

    private void AddConsole(string level, string text, string url)
    {
        lock (_gate)
        {
            Add(_console, new ConsoleEntry(level, text.Length > 2_000 ? text[..2_000] + "…" : text, AnchorTracing.SafeUrl(url), _navigation));
        }
    }

    private void AddRequest(IRequest request, string outcome)
    {
        lock (_gate)
        {
            Add(_requests, new RequestEntry(request.Method, AnchorTracing.SafeUrl(request.Url), request.ResourceType, outcome, _navigation, ++_requestNumber, request));
        }
    }

    private static void Add<T>(LinkedList<T> list, T entry)
    {
        list.AddLast(entry);
        if (list.Count > Capacity)
        {
            list.RemoveFirst();
        }
    }
}
