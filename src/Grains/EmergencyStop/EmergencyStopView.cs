using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Orleans.Storage;
using Polly;
using Polly.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.EmergencyStop;

/// <summary>
/// This silo's view of the emergency switch, read on every admission without a grain call. The switch pushes each
/// change to it; it also polls every <c>RefreshSeconds</c> (renewing its subscription). It fails closed: before it
/// has heard from the switch, or when it has not for <c>StaleAfterSeconds</c>, it answers as if the switch were tripped.
/// While the switch grain fails over (its silo died and membership has not yet moved it), the view reads the switch's
/// persisted state instead: a trip is durable before it is acknowledged, so storage knows the switch as well as the grain.
/// </summary>
public sealed partial class EmergencyStopView(
    IGrainFactory grains,
    IServiceProvider services,
    TimeProvider time,
    IOptionsMonitor<EmergencyStopOptions> options,
    ILogger<EmergencyStopView> logger) : IEmergencyStopObserver, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private static readonly TimeSpan StartRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private EmergencyStopState? _state;
    private long _heardAt;
    private IEmergencyStopObserver? _reference;
    private Task? _loop;
    private int _disposed;

    /// <summary>The last state heard, if any.</summary>
    public EmergencyStopState? State => _state;

    /// <summary>When the switch last answered or pushed (null: never).</summary>
    public DateTimeOffset? HeardAt => _state is null ? null : new DateTimeOffset(Interlocked.Read(ref _heardAt), TimeSpan.Zero);

    /// <summary>Null when work may proceed; otherwise why it is refused (tripped with its reason, or the view is stale).</summary>
    public string? RefusalReason()
    {
        var state = _state;
        if (state is null)
        {
            return "emergency_shutdown: the state of the emergency switch is not known yet on this silo; refusing work until it is.";
        }

        var silence = time.GetUtcNow() - HeardAt!.Value;
        var staleAfter = TimeSpan.FromSeconds(options.CurrentValue.StaleAfterSeconds);
        if (silence > staleAfter)
        {
            return $"emergency_shutdown: this silo has not heard from the emergency switch for {(int)silence.TotalSeconds} s (limit {(int)staleAfter.TotalSeconds} s); refusing work until it does.";
        }

        return state.Tripped ? $"emergency_shutdown: {state.Reason} (tripped by {state.TrippedBy} at {state.TrippedAt:O})" : null;
    }

    /// <summary>Throws <c>emergency_shutdown</c> when work must be refused.</summary>
    public void ThrowIfRefusing()
    {
        if (RefusalReason() is { } reason)
        {
            throw new AnchorException(ErrorCodes.EmergencyShutdown, reason);
        }
    }

    Task IEmergencyStopObserver.OnChangedAsync(EmergencyStopState state)
    {
        Apply(state);
        return Task.CompletedTask;
    }

    /// <summary>Polls the switch now (and renews the push subscription).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var grain = grains.GetGrain<IEmergencyStopGrain>(0);
        var state = _reference is { } reference
            ? await grain.SubscribeAsync(reference, cancellationToken)
            : await grain.GetStateAsync(cancellationToken);
        Apply(state);
    }

    /// <summary>
    /// Polls the switch; when the grain cannot answer within a refresh period (a failover), reads its persisted state.
    /// Throws only when neither answers, so the view goes stale only when the switch truly cannot be known.
    /// </summary>
    private async Task RefreshOrReadStoredAsync(CancellationToken cancellationToken)
    {
        var limit = TimeSpan.FromSeconds(options.CurrentValue.RefreshSeconds);
        try
        {
            await RefreshAsync(cancellationToken).WaitAsync(limit, time, cancellationToken);
        }
        catch (Exception ex) when (Resilience.TransientClusterErrors.IsTransient(ex) && services.GetKeyedService<IGrainStorage>(Hosting.OrleansHostingExtensions.StorageName) is { } storage)
        {
            LogReadingStoredSwitch(logger, ex);
            var stored = new GrainState<EmergencyStopRecord>(new EmergencyStopRecord());
            await storage.ReadStateAsync(EmergencyStopGrain.StateName, grains.GetGrain<IEmergencyStopGrain>(0).GetGrainId(), stored).WaitAsync(limit, time, cancellationToken);
            Apply((stored.State ?? new EmergencyStopRecord()).Switch);
        }
    }

    private void Apply(EmergencyStopState state)
    {
        lock (_gate)
        {
            // A poll answered before a push may arrive after it: never step back to an older version.
            if (_state is null || state.Version >= _state.Version)
            {
                if (_state is not null && _state.Tripped != state.Tripped)
                {
                    LogChanged(logger, state.Tripped, state.Version);
                }

                _state = state;
            }

            Interlocked.Exchange(ref _heardAt, time.GetUtcNow().UtcTicks);
        }
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EmergencyStopView), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        _reference = grains.CreateObjectReference<IEmergencyStopObserver>(this);
        // Know the switch before the silo serves, so a healthy cluster does not refuse its first calls; retry briefly
        // (a loaded or still-forming cluster may not answer the first call), then let the poll loop carry on.
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(options.CurrentValue.StaleAfterSeconds);
        var retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Until the switch is known (a push may tell it first) or the next attempt would start past the deadline.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is not null && _state is null && !cancellationToken.IsCancellationRequested && time.GetUtcNow() + StartRetryDelay < deadline),
                Delay = StartRetryDelay,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                MaxRetryAttempts = int.MaxValue,
            })
            .Build();
        try
        {
            await retry.ExecuteAsync(
                async ct =>
                {
                    try
                    {
                        await RefreshOrReadStoredAsync(ct);
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        LogRefreshFailed(logger, ex);
                        throw;
                    }
                },
                cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Still not known (each failure was logged): the poll loop goes on trying, quickly while it is unknown.
        }

        _loop = PollAsync(_stopping.Token);
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(PollInterval(), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await RefreshOrReadStoredAsync(cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // Stays on the last state until StaleAfterSeconds, then fails closed.
                    LogRefreshFailed(logger, ex);
                }

                if (PollInterval() is var interval && interval != timer.Period)
                {
                    timer.Period = interval;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Quickly while the state is unknown (a silo joining a forming cluster), then every <c>RefreshSeconds</c>.</summary>
    private TimeSpan PollInterval() =>
        _state is null ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(options.CurrentValue.RefreshSeconds);

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        if (_reference is { } reference)
        {
            try
            {
                await grains.GetGrain<IEmergencyStopGrain>(0).UnsubscribeAsync(reference, cancellationToken).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The subscription expires on its own.
                LogRefreshFailed(logger, ex);
            }

            grains.DeleteObjectReference<IEmergencyStopObserver>(reference);
            _reference = null;
        }
    }

    // Registered as itself and as a lifecycle participant, so the container may dispose it twice.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _stopping.CancelAsync();
            _stopping.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Emergency switch is now {Tripped} on this silo (version {Version})")]
    private static partial void LogChanged(ILogger logger, bool tripped, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The emergency switch grain did not answer; reading its stored state")]
    private static partial void LogReadingStoredSwitch(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the emergency switch view")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
