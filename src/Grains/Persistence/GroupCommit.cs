using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Persistence;

/// <summary>
/// Group commit for a <c>[Reentrant]</c> grain: callers change the in-memory state, then await
/// <see cref="CommitAsync"/>. While one write is in flight, every caller that arrives joins the next batch, and one
/// write acknowledges them all — N concurrent changes cost about one storage write, and no caller returns before
/// its change is durable. Runs on the grain's scheduler only (no locks). After a failed write the in-memory state
/// no longer matches storage: this commit refuses every later caller and the grain must deactivate to reload.
/// </summary>
public sealed class GroupCommit(Func<Task> write, Action<Exception> onFault)
{
    private TaskCompletionSource? _waiting;
    private bool _running;

    public bool Faulted { get; private set; }

    /// <summary>Completes when a write that includes every change made before this call has succeeded.</summary>
    public Task CommitAsync()
    {
        ThrowIfFaulted();
        var batch = _waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_running)
        {
            _running = true;
            _ = PumpAsync();
        }

        return batch.Task;
    }

    public void ThrowIfFaulted()
    {
        if (Faulted)
        {
            throw Unavailable();
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (_waiting is { } batch)
            {
                _waiting = null;
                try
                {
                    await write();
                    batch.SetResult();
                }
                catch (Exception ex)
                {
                    Faulted = true;
                    onFault(ex);
                    batch.SetException(Unavailable());
                    // The next batch's changes sit on top of the failed ones: they are not durable either.
                    _waiting?.SetException(Unavailable());
                    _waiting = null;
                }
            }
        }
        finally
        {
            _running = false;
        }
    }

    private static AnchorException Unavailable() =>
        new(ErrorCodes.StorageUnavailable, "the change could not be saved; try again.");
}
