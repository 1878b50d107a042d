using System.Diagnostics;
using StackExchange.Redis;
using Xunit;

namespace Anchor.Orleans.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence, owned by the test run.
/// Use as a collection or class fixture; it stops the server when disposed.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>The server requires this password, as production Redis does; tests check it never reaches a log.</summary>
    public string Password { get; } = $"redis-pw-{Guid.NewGuid():N}";

    public string ConnectionString => $"127.0.0.1:{Port},password={Password},abortConnect=false";

    public async ValueTask InitializeAsync()
    {
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: run `apt-get install -y redis-server` (scripts/test.sh does this as root).");
        Port = FreePorts.Next();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--requirepass", Password })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await Poll.UntilAsync(
            async () =>
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},password={Password},connectTimeout=500");
                await connection.GetDatabase().PingAsync();
                return true;
            },
            TimeSpan.FromSeconds(20),
            $"redis-server on port {Port} to answer PING");
    }

    /// <summary>Removes every key, so one test's cluster state cannot leak into the next.</summary>
    public async Task FlushAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},password={Password},allowAdmin=true");
        await connection.GetServers()[0].FlushAllDatabasesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }
}
