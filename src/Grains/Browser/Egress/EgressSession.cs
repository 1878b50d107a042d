using System.Security.Cryptography;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// One browser context's account at the <see cref="EgressProxy"/>: the credentials its context presents (so the proxy
/// knows whose request it carries and refuses strangers), the client's allowed hosts, and what went through. Disposing
/// it ends every connection it holds and makes its credentials worthless.
/// </summary>
public sealed class EgressSession : IDisposable
{
    private readonly Action<EgressSession> _release;
    private readonly CancellationTokenSource _closing = new();
    private long _received;
    private long _sent;
    private long _refused;

    internal EgressSession(IReadOnlyList<string> allowedHosts, Action<EgressSession> release)
    {
        AllowedHosts = allowedHosts;
        _release = release;
        UserName = "anchor-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        Password = RandomNumberGenerator.GetHexString(32, lowercase: true);
    }

    public string UserName { get; }

    public string Password { get; }

    /// <summary>The client's own allowed hosts (<c>Clients:&lt;id&gt;:Browser:AllowedHosts</c>).</summary>
    public IReadOnlyList<string> AllowedHosts { get; }

    /// <summary>Bytes the network sent to the browser through the proxy.</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    /// <summary>Bytes the browser sent to the network through the proxy.</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>Connections the policy refused.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The most recent connection the policy refused, in the agent's words (<c>url_blocked: … refused: ….</c>).</summary>
    public string? LastRefusal { get; set; }

    internal CancellationToken Closing => _closing.Token;

    internal void CountReceived(int bytes) => Interlocked.Add(ref _received, bytes);

    internal void CountSent(int bytes) => Interlocked.Add(ref _sent, bytes);

    internal void Refuse(string message)
    {
        Interlocked.Increment(ref _refused);
        LastRefusal = message;
    }

    public void Dispose()
    {
        _release(this);
        _closing.Cancel();
    }
}
