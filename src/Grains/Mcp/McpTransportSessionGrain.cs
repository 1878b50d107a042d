using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Mcp;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Mcp;

/// <summary>
/// An MCP transport session as cluster state. The initialize parameters are written once; the last request time is
/// kept in memory and written only when it has moved by a quarter of the TTL, so a request costs no storage write
/// while a reactivated session still expires about on time. A keep-alive timer ends the session at its TTL.
/// </summary>
public sealed class McpTransportSessionGrain(
    [PersistentState("mcpSession", OrleansHostingExtensions.StorageName)] IPersistentState<McpTransportSessionRecord> state,
    IOptionsMonitor<McpOptions> options,
    TimeProvider time) : Grain, IMcpTransportSessionGrain
{
    private DateTimeOffset _lastSeen;
    private IGrainTimer? _expiry;

    private TimeSpan Ttl => TimeSpan.FromSeconds(options.CurrentValue.SessionIdleTimeoutSeconds);

    private bool Exists => state.RecordExists && state.State.ClientId is { Length: > 0 };

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Exists)
        {
            _lastSeen = state.State.LastSeenAt;
            if (time.GetUtcNow() - _lastSeen > Ttl)
            {
                await state.ClearStateAsync(cancellationToken);
            }
            else
            {
                StartExpiryTimer();
            }
        }
    }

    public async Task StartAsync(string clientId, string initializeParamsJson, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        state.State = new McpTransportSessionRecord { ClientId = clientId, InitializeParams = initializeParamsJson, StartedAt = now, LastSeenAt = now };
        _lastSeen = now;
        await state.WriteStateAsync(cancellationToken);
        StartExpiryTimer();
    }

    public async Task<string?> TouchAsync(string clientId, CancellationToken cancellationToken = default)
    {
        if (!Exists || state.State.ClientId != clientId)
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (now - _lastSeen > Ttl)
        {
            await EndNowAsync(cancellationToken);
            return null;
        }

        _lastSeen = now;
        if (now - state.State.LastSeenAt > Ttl / 4)
        {
            state.State.LastSeenAt = now;
            await state.WriteStateAsync(cancellationToken);
        }

        return state.State.InitializeParams;
    }

    public async Task<bool> EndAsync(string clientId, CancellationToken cancellationToken = default)
    {
        if (!Exists || state.State.ClientId != clientId)
        {
            return false;
        }

        await EndNowAsync(cancellationToken);
        return true;
    }

    public Task<DateTimeOffset?> LastSeenAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<DateTimeOffset?>(Exists && time.GetUtcNow() - _lastSeen <= Ttl ? _lastSeen : null);

    private void StartExpiryTimer()
    {
        if (_expiry is null)
        {
            var period = TimeSpan.FromSeconds(Math.Clamp(options.CurrentValue.SessionIdleTimeoutSeconds / 4.0, 1, 60));
            _expiry = this.RegisterGrainTimer(ExpireIfIdleAsync, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
        }
    }

    private async Task ExpireIfIdleAsync(CancellationToken cancellationToken)
    {
        if (Exists && time.GetUtcNow() - _lastSeen > Ttl)
        {
            await EndNowAsync(cancellationToken);
        }
    }

    private async Task EndNowAsync(CancellationToken cancellationToken)
    {
        _expiry?.Dispose();
        _expiry = null;
        await state.ClearStateAsync(cancellationToken);
        DeactivateOnIdle();
    }
}

/// <summary>Storage of <see cref="McpTransportSessionGrain"/>.</summary>
[GenerateSerializer, Alias("anchor.McpTransportSessionRecord")]
public sealed class McpTransportSessionRecord
{
    [Id(0)]
    public string ClientId { get; set; } = "";

    /// <summary>The client's <c>initialize</c> parameters as the MCP SDK serialises them.</summary>
    [Id(1)]
    public string InitializeParams { get; set; } = "";

    [Id(2)]
    public DateTimeOffset StartedAt { get; set; }

    [Id(3)]
    public DateTimeOffset LastSeenAt { get; set; }
}
