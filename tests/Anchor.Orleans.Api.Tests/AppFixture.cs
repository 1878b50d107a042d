using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests;

/// <summary>One embedded-default app (Development, dev keys, in-memory) shared by the read-only HTTP tests of a class.</summary>
public sealed class AppFixture : IAsyncLifetime
{
    public AnchorAppHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Host = await AnchorAppHost.StartAsync();

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
