using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Hosting;

/// <summary>
/// The silo's own shared Redis connection (health checks, ledgers), opened on first use.
/// Null in a process that does not use Redis.
/// </summary>
public sealed class RedisConnection(IOptions<AnchorHostingOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnectionMultiplexer? _multiplexer;

    public bool IsConfigured => options.Value.UsesRedis;

    public async Task<IConnectionMultiplexer> GetAsync()
    {
        if (_multiplexer is { } existing)
        {
            return existing;
        }

        await _gate.WaitAsync();
        try
        {
            _multiplexer ??= await ConnectionMultiplexer.ConnectAsync(RedisConnectionStrings.Parse(options.Value.Redis.ConnectionString));
            return _multiplexer;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.DisposeAsync();
        }

        _gate.Dispose();
    }
}
