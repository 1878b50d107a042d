using System.Globalization;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Live;

namespace Anchor.Orleans.Grains.Live;

/// <summary>
/// Whether a person holds control of a session. While one does (or a hand-off waits for one, until its link expires),
/// the agent's actions wait for them to hand it back (up to the action's limit), then answer <c>human_in_control</c>.
/// The end of a hand-off is reported once, to the next action. Not thread-safe: its grain calls it one turn at a time.
/// </summary>
public sealed class LiveControlGate(TimeProvider time, Action<string>? handoffEnded = null)
{
    /// <summary>What a refused action tells the agent to wait before trying again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    /// <summary>The holder name of a hand-off (the person's link uses it too).</summary>
    public static string HandoffHolder(string handoffId) => "handoff:" + handoffId;

    private TaskCompletionSource? _released;
    private string? _holder;
    private DateTimeOffset? _until;
    private HandoffOutcome? _outcome;

    public bool IsHeld => _released is not null && !Lapsed;

    private bool Lapsed => _until is { } until && time.GetUtcNow() >= until;

    /// <summary>Takes control for <paramref name="holder"/> (until <paramref name="until"/>, if given); false when someone else holds it.</summary>
    public bool Take(string holder, DateTimeOffset? until = null)
    {
        if (_released is not null && Lapsed)
        {
            End("expired");
        }

        if (_released is not null)
        {
            return _holder == holder;
        }

        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holder = holder;
        _until = until;
        return true;
    }

    /// <summary>Hands control back; false when <paramref name="holder"/> did not hold it.</summary>
    public bool Release(string holder, string outcome = "completed")
    {
        if (_released is null || _holder != holder)
        {
            return false;
        }

        End(outcome);
        return true;
    }

    /// <summary>
    /// Returns at once when nobody holds control; otherwise waits up to <paramref name="limit"/> for the person to be done
    /// (or the hand-off's link to expire). Answers how a hand-off ended, once, to the first action after it.
    /// </summary>
    public async Task<HandoffOutcome?> WaitAsync(string sessionId, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (_released is { } released)
        {
            var wait = _until is { } until ? TimeSpan.FromTicks(Math.Clamp((until - time.GetUtcNow()).Ticks, 0, limit.Ticks)) : limit;
            try
            {
                await released.Task.WaitAsync(wait, time, cancellationToken);
            }
            catch (TimeoutException) when (Lapsed && ReferenceEquals(released, _released))
            {
                End("expired");
            }
            catch (TimeoutException)
            {
                throw new AnchorException(
                    ErrorCodes.HumanInControl,
                    string.Create(CultureInfo.InvariantCulture, $"a person is in control of session '{sessionId}' and did not hand it back within {limit.TotalSeconds:0} s; retry after {RetryAfter.TotalSeconds:0} s."),
                    RetryAfter);
            }
        }

        var outcome = _outcome;
        _outcome = null;
        return outcome;
    }

    private void End(string outcome)
    {
        var released = _released!;
        if (_holder is { } holder && holder.StartsWith("handoff:", StringComparison.Ordinal))
        {
            _outcome = new HandoffOutcome(holder["handoff:".Length..], outcome, time.GetUtcNow());
            handoffEnded?.Invoke(outcome);
        }

        _released = null;
        _holder = null;
        _until = null;
        released.SetResult();
    }
}
