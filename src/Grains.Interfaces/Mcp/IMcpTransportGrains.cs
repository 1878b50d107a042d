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
}

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
}

/// <summary>The silo-local end of a legacy SSE stream: hands a forwarded message to the stream's MCP server.</summary>
public interface ILegacySseStreamObserver : IGrainObserver
{
    Task<bool> ReceiveAsync(string clientId, string messageJson);
}
