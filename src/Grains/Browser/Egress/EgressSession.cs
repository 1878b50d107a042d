using System.Security.Cryptography;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// One browser context's account at the <see cref="EgressProxy"/>: the credentials its context presents (so the proxy
/// knows whose request it carries and refuses strangers), the client's allowed hosts, what went through, and its byte
/// budget. Disposing it ends every connection it holds and makes its credentials worthless.
/// </summary>
/// <remarks>
/// The budget is a sliding minute (<see cref="EgressByteWindow"/>): past <see cref="BrowserOptions.MaxSessionBytesPerMinute"/>
/// bytes received from the network within any minute, every connection of the session is closed, new ones are refused
/// for a minute, and the session holds an overrun for its next action to report (<see cref="TakeOverrun"/>). The same
/// happens to a session past its share of the silo's budget while the silo is past it (<see cref="EgressSiloBudget"/>).
/// </remarks>
public sealed class EgressSession : IDisposable
{
    /// <summary>The span the byte budget counts over, and how long a session past it is refused.</summary>
    public static readonly TimeSpan Window = EgressByteWindow.Span;

    /// <summary>How many recent failures are kept for <see cref="FailureFor"/>.</summary>
    private const int KeptFailures = 16;

    private readonly EgressSiloBudget? _silo;
    private readonly Action<EgressSession> _release;
    private readonly Action<EgressSession> _exceededOnce;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private readonly List<(string Authority, NetworkFailure Failure)> _failures = [];
    private readonly EgressByteWindow _minute = new();
    private CancellationTokenSource _window;
    private DateTimeOffset _refusedUntil;
    private NetworkFailure? _exceededBy;
    private NetworkFailure? _overrun;
    private long _received;
    private long _sent;
    private long _refused;

    internal EgressSession(IReadOnlyList<string> allowedHosts, long bytesPerMinute, TimeProvider time, Action<EgressSession> release, Action<EgressSession> exceeded, EgressSiloBudget? silo = null)
    {
        _silo = silo;
        _exceededOnce = exceeded;
        AllowedHosts = allowedHosts;
        BytesPerMinute = bytesPerMinute;
        _time = time;
        _release = release;
        _window = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        UserName = "anchor-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        Password = RandomNumberGenerator.GetHexString(32, lowercase: true);
    }

    public string UserName { get; }

    public string Password { get; }

    /// <summary>The client's own allowed hosts (<c>Clients:&lt;id&gt;:Browser:AllowedHosts</c>).</summary>
    public IReadOnlyList<string> AllowedHosts { get; }

    /// <summary>The session's byte budget per minute (<c>Browser:MaxSessionBytesPerMinute</c> when it was opened).</summary>
    public long BytesPerMinute { get; }

    /// <summary>Bytes the network sent to the browser through the proxy.</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    /// <summary>Bytes the browser sent to the network through the proxy.</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>Connections the policy refused.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The most recent refusal or failure, in the agent's words (<c>url_blocked: … refused: ….</c> or <c>browser_error: …</c>).</summary>
    public NetworkFailure? LastFailure
    {
        get
        {
            lock (_gate)
            {
                return _failures.Count == 0 ? null : _failures[^1].Failure;
            }
        }
    }

    /// <summary>Ends with the session, and when the session goes past its budget.</summary>
    internal CancellationToken Closing
    {
        get
        {
            lock (_gate)
            {
                RollWindow();
                return _window.Token;
            }
        }
    }

    /// <summary>
    /// Why the failure of a request for <paramref name="authority"/> (<c>host:port</c>) happened, as recorded by the
    /// proxy since <see cref="ClearFailures"/>: that authority's latest failure, else the latest of any (a redirect's
    /// target), else null.
    /// </summary>
    public NetworkFailure? FailureFor(string? authority)
    {
        lock (_gate)
        {
            for (var i = _failures.Count - 1; i >= 0; i--)
            {
                if (string.Equals(_failures[i].Authority, authority, StringComparison.OrdinalIgnoreCase))
                {
                    return _failures[i].Failure;
                }
            }

            return _failures.Count == 0 ? null : _failures[^1].Failure;
        }
    }

    /// <summary>Forgets recorded failures (a new action starts); an overrun not yet reported is kept.</summary>
    public void ClearFailures()
    {
        lock (_gate)
        {
            _failures.Clear();
        }
    }

    /// <summary>The budget overrun or cut-off response not reported yet, once; null when there is none.</summary>
    public NetworkFailure? TakeOverrun()
    {
        lock (_gate)
        {
            var overrun = _overrun;
            _overrun = null;
            return overrun;
        }
    }

    /// <summary>Forgets the pending overrun when it is <paramref name="reported"/> (the failing action already reported it).</summary>
    public void DropOverrun(NetworkFailure reported)
    {
        lock (_gate)
        {
            if (_overrun == reported)
            {
                _overrun = null;
            }
        }
    }

    /// <summary>Why a new connection is refused now (the session went past its budget in this window), or null.</summary>
    internal NetworkFailure? OverBudget()
    {
        lock (_gate)
        {
            RollWindow();
            return _exceededBy;
        }
    }

    /// <summary>
    /// Counts bytes from the network; past the session's budget, or past its share of the silo's while the silo is past
    /// that, closes the session's connections and records the overrun.
    /// </summary>
    internal void CountReceived(int bytes)
    {
        Interlocked.Add(ref _received, bytes);
        CancellationTokenSource? close = null;
        lock (_gate)
        {
            RollWindow();
            var now = _time.GetUtcNow();
            var minute = _minute.Add(bytes, now);
            var overSiloShare = _silo?.Count(bytes, minute) == true;
            if (_exceededBy is null && (minute > BytesPerMinute || overSiloShare))
            {
                var failure = minute > BytesPerMinute ? Exceeded() : ExceededSiloShare(_silo!);
                _exceededBy = failure;
                _refusedUntil = now + Window;
                _overrun = failure;
                Record("", failure);
                close = _window;
            }
        }

        if (close is not null)
        {
            close.Cancel();
            _exceededOnce(this);
        }
    }

    internal void CountSent(int bytes) => Interlocked.Add(ref _sent, bytes);

    /// <summary>A request the policy refused.</summary>
    internal void Refuse(string authority, string message)
    {
        Interlocked.Increment(ref _refused);
        lock (_gate)
        {
            Record(authority, new NetworkFailure(ErrorCodes.UrlBlocked, message));
        }
    }

    /// <summary>A request the network failed (<c>browser_error</c>).</summary>
    internal void Fail(string authority, string message)
    {
        lock (_gate)
        {
            Record(authority, new NetworkFailure(ErrorCodes.BrowserError, message));
        }
    }

    /// <summary>A response cut off at <c>Browser:MaxResponseBytes</c>: recorded, and reported by the next action as an overrun.</summary>
    internal void Cut(string authority, string message)
    {
        lock (_gate)
        {
            var failure = new NetworkFailure(ErrorCodes.BrowserError, message);
            _overrun ??= failure;
            Record(authority, failure);
        }
    }

    private void Record(string authority, NetworkFailure failure)
    {
        if (_failures.Count == KeptFailures)
        {
            _failures.RemoveAt(0);
        }

        _failures.Add((authority, failure));
    }

    private NetworkFailure Exceeded() => new(
        ErrorCodes.BrowserError,
        $"browser_error: page exceeded Browser:MaxSessionBytesPerMinute ({BytesPerMinute} bytes received within a minute); the session's connections were closed and new ones are refused for a minute.");

    private static NetworkFailure ExceededSiloShare(EgressSiloBudget silo) => new(
        ErrorCodes.BrowserError,
        $"browser_error: page exceeded its share of Browser:MaxSiloBytesPerMinute (the silo's sessions received more than {silo.BytesPerMinute} bytes within a minute, this session more than its share of {silo.Share}); the session's connections were closed and new ones are refused for a minute.");

    /// <summary>Lets a session that went past its budget connect again once its minute of refusal is over. Under <see cref="_gate"/>.</summary>
    private void RollWindow()
    {
        if (_exceededBy is null || _time.GetUtcNow() < _refusedUntil)
        {
            return;
        }

        _exceededBy = null;
        _minute.Clear();
        // The spent window's source is left to the collector: connections may still be linking to its (cancelled) token.
        _window = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
    }

    public void Dispose()
    {
        _release(this);
        _closing.Cancel();
    }
}
