using Anchor.Orleans.Grains.Hosting;

namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// One console sign-in (key = hex SHA-256 of the cookie's random value, so storage never holds a usable cookie), in the
/// cluster's grain storage: any silo serves any console request, no affinity.
/// </summary>
public interface IConsoleSessionGrain : IGrainWithStringKey
{
    /// <summary>Starts the sign-in (once).</summary>
    Task StartAsync(ConsoleSignIn signIn, CancellationToken cancellationToken = default);

    /// <summary>The sign-in if it is still valid (not ended, not idle for <paramref name="idle"/>, not past its absolute end), marking it used now.</summary>
    Task<ConsoleSignIn?> TouchAsync(TimeSpan idle, CancellationToken cancellationToken = default);

    /// <summary>Ends the sign-in for good (sign out, or its key was removed).</summary>
    Task EndAsync(CancellationToken cancellationToken = default);
}

/// <summary>Who signed in (client id, and the SHA-256 of the key used, to notice its removal), when, and until when at most.</summary>
[GenerateSerializer, Immutable, Alias("anchor.ConsoleSignIn")]
public sealed record ConsoleSignIn(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string KeySha256,
    [property: Id(2)] DateTimeOffset SignedInAt,
    [property: Id(3)] DateTimeOffset EndsAt);

/// <summary>The stored side of a console sign-in.</summary>
[GenerateSerializer, Alias("anchor.ConsoleSignInState")]
public sealed class ConsoleSignInState
{
    [Id(0)]
    public ConsoleSignIn? SignIn { get; set; }

    [Id(1)]
    public DateTimeOffset LastSeenAt { get; set; }
}

/// <summary>
/// A console sign-in. Use is tracked in memory at every request and written at most once a minute (a page that polls
/// every second must not write storage every second); after a silo loss the idle clock is at most a minute early.
/// </summary>
public sealed class ConsoleSessionGrain(
    [PersistentState("console-session", OrleansHostingExtensions.StorageName)] IPersistentState<ConsoleSignInState> state,
    TimeProvider time) : Grain, IConsoleSessionGrain
{
    private static readonly TimeSpan WriteEvery = TimeSpan.FromMinutes(1);

    private DateTimeOffset _lastSeenAt;

    public async Task StartAsync(ConsoleSignIn signIn, CancellationToken cancellationToken = default)
    {
        if (state.State.SignIn is not null)
        {
            throw new InvalidOperationException("A console sign-in starts once.");
        }

        state.State.SignIn = signIn;
        state.State.LastSeenAt = _lastSeenAt = signIn.SignedInAt;
        await state.WriteStateAsync(cancellationToken);
    }

    public async Task<ConsoleSignIn?> TouchAsync(TimeSpan idle, CancellationToken cancellationToken = default)
    {
        if (state.State.SignIn is not { } signIn)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var lastSeen = _lastSeenAt > state.State.LastSeenAt ? _lastSeenAt : state.State.LastSeenAt;
        if (now >= signIn.EndsAt || now - lastSeen >= idle)
        {
            await EndAsync(cancellationToken);
            return null;
        }

        _lastSeenAt = now;
        if (now - state.State.LastSeenAt >= WriteEvery)
        {
            state.State.LastSeenAt = now;
            await state.WriteStateAsync(cancellationToken);
        }

        return signIn;
    }

    public async Task EndAsync(CancellationToken cancellationToken = default)
    {
        if (state.RecordExists)
        {
            await state.ClearStateAsync(cancellationToken);
        }

        state.State = new ConsoleSignInState();
        DeactivateOnIdle();
    }
}
