using Anchor.Orleans.Grains.Interfaces.Mcp;
using Orleans.Placement;

namespace Anchor.Orleans.Grains.Mcp;

/// <summary>
/// Routes a legacy SSE stream's messages to the silo that holds the stream. Placed on the silo that opens it (so a
/// message usually takes one hop) and kept alive while the stream is open; nothing is persisted, since the stream
/// cannot outlive its silo.
/// </summary>
[PreferLocalPlacement]
public sealed class LegacySseStreamGrain : Grain, ILegacySseStreamGrain
{
    private string? _clientId;
    private ILegacySseStreamObserver? _stream;

    public Task OpenAsync(string clientId, ILegacySseStreamObserver stream, CancellationToken cancellationToken = default)
    {
        _clientId = clientId;
        _stream = stream;
        // An idle stream may wait long for its next message; its end (CloseAsync) lets the activation go.
        DelayDeactivation(TimeSpan.FromDays(1));
        return Task.CompletedTask;
    }

    public async Task<bool> DeliverAsync(string clientId, string messageJson, CancellationToken cancellationToken = default)
    {
        if (_stream is null || _clientId != clientId)
        {
            return false;
        }

        return await _stream.ReceiveAsync(clientId, messageJson);
    }

    public async Task<DateTimeOffset?> LastSeenAsync(CancellationToken cancellationToken = default) =>
        _stream is { } stream ? await stream.LastSeenAsync() : null;

    public async Task<bool> ReclaimAsync(CancellationToken cancellationToken = default)
    {
        if (_stream is not { } stream)
        {
            return false;
        }

        await stream.CloseAsync();
        return true;
    }

    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        _stream = null;
        _clientId = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
