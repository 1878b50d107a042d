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
/// A navigation of the page's main frame starts a new chapter (its document request included). Bounded, since a
/// page can log or request without end between two calls: the oldest entries go first past <see cref="Capacity"/>
/// each, past <see cref="MaxConsoleChars"/> of console text, and a request's details (its Playwright object, which
/// holds its body) are let go past <see cref="MaxHeldBodyBytes"/>; the next console read says how many were dropped.
/// URLs keep no query string (they may carry tokens). Playwright raises these events on its own thread: guarded by a lock.
/// </summary>
public sealed class PageActivity
{
    public const int Capacity = 500;

    /// <summary>Characters of one console message kept (the rest is cut).</summary>
    public const int MaxMessageChars = 2_000;

    /// <summary>Characters of console text one page keeps in all (about 400 KB).</summary>
    public const int MaxConsoleChars = 200_000;

    /// <summary>Characters of a URL kept with an entry.</summary>
    public const int MaxUrlChars = 500;

    /// <summary>Request bodies held for <c>browser_network_request</c> per page; older requests keep only their summary line.</summary>
    public const long MaxHeldBodyBytes = 4L * 1024 * 1024;

    private static readonly string[] Levels = ["error", "warning", "info", "debug"];

    private readonly Lock _gate = new();
    private readonly LinkedList<ConsoleEntry> _console = [];
    private readonly LinkedList<RequestEntry> _requests = [];
    private int _navigation;
    private int _requestNumber;
    private long _consoleChars;
    private int _consoleDropped;
    private long _heldBodyBytes;

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

    /// <summary>
    /// Console messages at <paramref name="level"/> or more severe, since the last navigation unless <paramref name="all"/>,
    /// and how many messages (of any level) were dropped for the bounds since the last time this was asked.
    /// </summary>
    public (IReadOnlyList<ConsoleEntry> Entries, int Dropped) Console(string level, bool all)
    {
        var rank = Array.IndexOf(Levels, level);
        lock (_gate)
        {
            var dropped = _consoleDropped;
            _consoleDropped = 0;
            return ([.. _console.Where(e => (all || e.Navigation == _navigation) && Array.IndexOf(Levels, e.Level) <= rank)], dropped);
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
        (text, url) = (Cut(text, MaxMessageChars), Cut(AnchorTracing.SafeUrl(url), MaxUrlChars));
        lock (_gate)
        {
            var entry = new ConsoleEntry(level, text, url, _navigation);
            _console.AddLast(entry);
            _consoleChars += entry.Text.Length + entry.Url.Length;
            while (_console.Count > Capacity || _consoleChars > MaxConsoleChars)
            {
                var first = _console.First!.Value;
                _console.RemoveFirst();
                _consoleChars -= first.Text.Length + first.Url.Length;
                _consoleDropped++;
            }
        }
    }

    private void AddRequest(IRequest request, string outcome)
    {
        var url = Cut(CredentialMasking.MaskUrl(request.Url), MaxUrlChars);
        var bodyBytes = request.PostDataBuffer?.Length ?? 0;
        lock (_gate)
        {
            _requests.AddLast(new RequestEntry(request.Method, url, request.ResourceType, outcome, _navigation, ++_requestNumber, request));
            _heldBodyBytes += bodyBytes;
            if (_requests.Count > Capacity)
            {
                _heldBodyBytes -= BodyBytes(_requests.First!.Value);
                _requests.RemoveFirst();
            }

            // Let go of the oldest requests' details (their bodies) until the rest fit; their summary lines stay.
            for (var node = _requests.First; node is not null && _heldBodyBytes > MaxHeldBodyBytes; node = node.Next)
            {
                if (node.Value.Source is not null && BodyBytes(node.Value) > 0)
                {
                    _heldBodyBytes -= BodyBytes(node.Value);
                    node.Value = node.Value with { Source = null };
                }
            }
        }
    }

    private static long BodyBytes(RequestEntry entry) => entry.Source?.PostDataBuffer?.Length ?? 0;

    private static string Cut(string text, int max) => text.Length > max ? text[..max] + "…" : text;
}
