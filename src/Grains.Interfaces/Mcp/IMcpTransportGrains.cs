using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Interfaces.Mcp;

/// <summary>
/// One MCP Streamable HTTP transport session (key: its <c>Mcp-Session-Id</c>), owned by the client that sent
/// <c>initialize</c>. It keeps the initialize parameters so whichever silo receives the session's next request can
/// restore it; it ends on <c>DELETE /mcp</c> or after <c>Anchor:Mcp:SessionIdleTimeoutSeconds</c> without a request.
/// </summary>
public interface IMcpTransportSessionGrain : IGrainWithStringKey
{
    /// <summary>Records a session that just completed <c>initialize</c> (the parameters as JSON).</summary>
    Task StartAsync(string clientId, string initializeParamsJson, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks a request of <paramref name="clientId"/> on the session and answers its initialize parameters; null when
    /// the session is unknown, ended, idle past its TTL, or another client's.
    /// </summary>
    Task<string?> TouchAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>Ends the session cluster-wide; false when it is unknown or another client's.</summary>
    Task<bool> EndAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>When the session last served a request; null when it is unknown, ended or idle past its TTL.</summary>
    [ReadOnly]
    Task<DateTimeOffset?> LastSeenAsync(CancellationToken cancellationToken = default);
}

/// <summary>Which per-key transport a <see cref="IMcpClientTransportsGrain"/> entry is.</summary>
public enum McpTransportKind
{
    /// <summary>A Streamable HTTP transport session (<c>Mcp-Session-Id</c>).</summary>
    Session,

    /// <summary>A legacy SSE stream (<c>GET /sse</c>).</summary>
    SseStream,
}

/// <summary>
/// The transport sessions and legacy SSE streams one key (client id) holds open, so a key holds at most a configured
/// number of each: when it is at the cap, its least recently used idle one is ended to make room, and with none idle
/// the new one is refused. Entries that ended on their own are found and dropped when the cap is reached.
/// </summary>
public interface IMcpClientTransportsGrain : IGrainWithStringKey
{
    /// <summary>Makes room for one more of <paramref name="kind"/> (ending the oldest idle one if the key is at <paramref name="cap"/>) and records <paramref name="id"/>.</summary>
    Task<TransportAdmission> OpenAsync(McpTransportKind kind, string id, int cap, TimeSpan idleAfter, CancellationToken cancellationToken = default);

    /// <summary>Whether one more of <paramref name="kind"/> would be admitted now, ending the oldest idle one if needed; records nothing.</summary>
    Task<TransportAdmission> MakeRoomAsync(McpTransportKind kind, int cap, TimeSpan idleAfter, CancellationToken cancellationToken = default);

    /// <summary>Forgets <paramref name="id"/> (it ended).</summary>
    Task CloseAsync(McpTransportKind kind, string id, CancellationToken cancellationToken = default);
}

/// <summary>An answer of <see cref="IMcpClientTransportsGrain"/>: admitted (and which idle one was ended for it), or refused until <see cref="RetryAfter"/>.</summary>
[GenerateSerializer, Immutable, Alias("anchor.TransportAdmission")]
public sealed record TransportAdmission(
    [property: Id(0)] bool Allowed,
    [property: Id(1)] int Open,
    [property: Id(2)] int Cap,
    [property: Id(3)] string? Reclaimed,
    [property: Id(4)] TimeSpan RetryAfter);

/// <summary>
/// A legacy SSE stream (key: its <c>sessionId</c>), routed to the silo holding the stream: a <c>/message</c> POST
/// that reaches another silo is delivered through this grain to the stream's silo. Kept in memory only: the stream
/// dies with its silo.
/// </summary>
public interface ILegacySseStreamGrain : IGrainWithStringKey
{
    Task OpenAsync(string clientId, ILegacySseStreamObserver stream, CancellationToken cancellationToken = default);

    /// <summary>Delivers one JSON-RPC message to the stream; false when the stream is gone or another client's.</summary>
    Task<bool> DeliverAsync(string clientId, string messageJson, CancellationToken cancellationToken = default);

    [AlwaysInterleave]
    Task CloseAsync(CancellationToken cancellationToken = default);

    /// <summary>When the stream last received a message (or opened); null when it is closed.</summary>
    [AlwaysInterleave]
    Task<DateTimeOffset?> LastSeenAsync(CancellationToken cancellationToken = default);

    /// <summary>Closes the stream on its silo (its key needs the room); false when it was already closed.</summary>
    [AlwaysInterleave]
    Task<bool> ReclaimAsync(CancellationToken cancellationToken = default);
}

/// <summary>The silo-local end of a legacy SSE stream: hands a forwarded message to the stream's MCP server.</summary>
public interface ILegacySseStreamObserver : IGrainObserver
{
    Task<bool> ReceiveAsync(string clientId, string messageJson);

    /// <summary>When the stream last received a message, or opened.</summary>
    Task<DateTimeOffset> LastSeenAsync();

    /// <summary>Ends the stream (the client sees it close).</summary>
    Task CloseAsync();
}
