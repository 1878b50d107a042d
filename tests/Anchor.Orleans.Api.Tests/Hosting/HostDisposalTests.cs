using System.Runtime.CompilerServices;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Hosting;

/// <summary>
/// A stopped and disposed silo leaves nothing of itself reachable in the process: no process-wide list, static
/// listener or pending timer keeps its services (directory caches, metric points, buffers). The test suites start
/// a hundred silos in one process, and an embedding host may restart one.
/// </summary>
public sealed class HostDisposalTests
{
    [Fact]
    public async Task DisposedHost_IsCollected()
    {
        var services = await StartAndDisposeAsync();

        // Disposal ends the host's own work; a thread or callback already running may hold it a moment longer.
        await Poll.UntilAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                return !services.IsAlive;
            },
            TimeSpan.FromSeconds(20),
            "a disposed host's services to be collected");
    }

    // Not inlined: no local of this frame may keep the host reachable while the test collects.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> StartAndDisposeAsync()
    {
        var host = await AnchorAppHost.StartAsync(TestKeys.Settings());
        var client = host.CreateClient(TestKeys.Operator);
        using (var status = await client.GetAsync("/status", TestContext.Current.CancellationToken))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, status.StatusCode);
        }

        var services = new WeakReference(host.Services.GetRequiredService<IServiceProvider>());
        await host.DisposeAsync();
        return services;
    }
}
