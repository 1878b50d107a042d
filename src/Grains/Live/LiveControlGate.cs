using System.Globalization;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Live;

/// <summary>
/// Whether a person holds control of a session. While one does, the agent's actions wait for them to hand it back
/// (up to the action's limit), then answer <c>human_in_control</c>. Not thread-safe: its grain calls it one turn at a time.
/// </summary>
public sealed class LiveControlGate(TimeProvider time)
{
    /// <summary>What a refused action tells the agent to wait before trying again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    private TaskCompletionSource? _released;
    private string? _holder;

    public bool IsHeld => _released is not null;

    /// <summary>Takes control for <paramref name="holder"/>; false when someone else holds it.</summary>
    public bool Take(string holder)
    {
        if (_released is not null)
        {
            return _holder == holder;
        }

        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holder = holder;
        return true;
    }

    /// <summary>Hands control back; false when <paramref name="holder"/> did not hold it.</summary>
    public bool Release(string holder)
    {
        if (_released is not { } released || _holder != holder)
        {
            return false;
        }

        _released = null;
        _holder = null;
        released.SetResult();
        return true;
    }

    /// <summary>Returns at once when nobody holds control; otherwise waits up to <paramref name="limit"/> for the person to be done.</summary>
    public async Task WaitAsync(string sessionId, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (_released is not { } released)
        {
            return;
        }

        try
        {
            await released.Task.WaitAsync(limit, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new AnchorException(
                ErrorCodes.HumanInControl,
                string.Create(CultureInfo.InvariantCulture, $"a person is in control of session '{sessionId}' and did not hand it back within {limit.TotalSeconds:0} s; retry after {RetryAfter.TotalSeconds:0} s."),
                RetryAfter);
        }
    }
}
