using System.Text;
using System.Text.Json;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Sessions.Lifetime;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions.Moves;

/// <summary>
/// A session's checkpoint (<see cref="SessionCheckpoint"/>), what lets it move to another silo: written in the background
/// after actions that may change the page, at most one write per <see cref="Spacing"/>; written at once when the session
/// is suspended for a move; read back (decrypted) to restore it; forgotten when it ends. Cookies, storage and tab URLs are
/// encrypted at rest with Data Protection (the key ring every silo shares). <c>hostedPage</c> answers the page the session
/// holds open here (null once it ended or moved); <c>recorded</c> is told each write's outcome, duration and stored bytes.
/// </summary>
public sealed partial class SessionCheckpointing(
    string sessionId,
    IPersistentState<SessionCheckpoint> state,
    IDataProtectionProvider protection,
    IOptionsMonitor<SessionsOptions> options,
    bool durableStorage,
    Func<IPageCheckpoints?> hostedPage,
    SessionAccount account,
    SessionLifetime lifetime,
    Action<bool, TimeSpan, int> recorded,
    TimeProvider time,
    ILogger logger,
    string? siloName = null)
{
    /// <summary>
    /// At most one checkpoint starts per this interval: a burst of actions costs one write, after its last action
    /// (a silo killed within about this long of an action may restore the page from before it).
    /// </summary>
    public static readonly TimeSpan Spacing = TimeSpan.FromSeconds(1);

    private IDataProtector? _protector;
    private bool _due;
    private Task _writing = Task.CompletedTask;
    private DateTimeOffset _lastStartedAt = DateTimeOffset.MinValue;
    private bool _lastWritten;
    private PeriodicTimer? _spacing;

    /// <summary>How many times the session was restored after losing its silo (kept in its checkpoint).</summary>
    public int LossRestores { get; set; }

    /// <summary>The stored checkpoint; <see cref="SessionCheckpoint.Exists"/> is false when there is none.</summary>
    public SessionCheckpoint Saved => state.State;

    private IDataProtector Protector => _protector ??= protection.CreateProtector("Anchor.Orleans.SessionCheckpoints.v1", sessionId);

    /// <summary>
    /// Asks for a checkpoint without waiting for it: one write runs at a time in the background (on the grain's
    /// activation), at most one per <see cref="Spacing"/>, and requests that arrive meanwhile are folded into the next
    /// write. Only when checkpoints are on and grain storage is durable.
    /// </summary>
    public void Request()
    {
        if (!options.CurrentValue.Checkpoints || !durableStorage)
        {
            return; // Off, or in-memory storage, which dies with the process: a checkpoint there could never be restored.
        }

        _due = true;
        if (_writing.IsCompleted)
        {
            _writing = WriteWhileDueAsync();
        }
    }

    /// <summary>Ends a spacing wait at once (a drain or an end must not wait out <see cref="Spacing"/>).</summary>
    public void Hurry()
    {
        _lastStartedAt = DateTimeOffset.MinValue;
        _spacing?.Dispose();
    }

    /// <summary>Waits for the background writes under way (a failure is logged, not thrown).</summary>
    public async Task AwaitAsync()
    {
        try
        {
            await _writing;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(logger, sessionId, ex);
        }
    }

    /// <summary>
    /// For a move: lets a background write finish (hurried), then writes one more unless that one already kept
    /// <paramref name="page"/> as it is now. False when the last checkpoint could not be written.
    /// </summary>
    public async Task<bool> WriteFinalAsync(IPageCheckpoints page)
    {
        _due = true;
        Hurry();
        await AwaitAsync();
        return (!_due && _lastWritten) || await WriteAsync(page);
    }

    /// <summary>Reads the page's state and stores the checkpoint; false (logged, recorded) when either fails.</summary>
    public async Task<bool> WriteAsync(IPageCheckpoints page)
    {
        _due = false;
        _lastWritten = false;
        var started = time.GetTimestamp();
        var bytes = 0;
        try
        {
            var taken = await page.CheckpointAsync(TimeSpan.FromSeconds(Math.Min(10, options.CurrentValue.ActionTimeoutSeconds)), CancellationToken.None);
            if (hostedPage() != page)
            {
                return false; // Ended (or moved) meanwhile: nothing to keep.
            }

            var storage = taken.StorageState;
            bytes = storage is null ? 0 : Encoding.UTF8.GetByteCount(storage);
            var omitted = bytes > options.CurrentValue.CheckpointMaxBytes;
            state.State = new SessionCheckpoint
            {
                ClientId = account.ClientId,
                OpenedAt = account.OpenedAt,
                ExpiresAt = lifetime.ExpiresAt,
                Actions = account.Actions,
                ActionsUsd = account.ActionsUsd,
                ReservedUsd = account.ReservedUsd,
                ProtectedTabs = Protector.Protect(JsonSerializer.Serialize(taken.Tabs)),
                CurrentTab = taken.CurrentTab,
                ViewportWidth = taken.ViewportWidth,
                ViewportHeight = taken.ViewportHeight,
                StorageState = omitted || storage is null ? null : Protector.Protect(storage),
                StorageOmitted = omitted,
                TakenAt = time.GetUtcNow(),
                LossRestores = LossRestores,
                Silo = siloName,
            };
            await state.WriteStateAsync();
            recorded(true, time.GetElapsedTime(started), omitted ? 0 : bytes);
            _lastWritten = true;
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (hostedPage() != page)
            {
                return false; // The context closed under the read: the session ended or moved, nothing is lost.
            }

            recorded(false, time.GetElapsedTime(started), bytes);
            LogCheckpointFailed(logger, sessionId, ex);
            return false;
        }
    }

    /// <summary>Removes the checkpoint once the session is over; a failure leaves it for the next activation to find ended and remove.</summary>
    public async Task ForgetAsync()
    {
        Hurry();
        await AwaitAsync();
        if (!state.State.Exists && !state.RecordExists)
        {
            return;
        }

        try
        {
            await state.ClearStateAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(logger, sessionId, ex);
        }
    }

    /// <summary>
    /// The page a checkpoint keeps, decrypted, and what of it is missing, one line each: cookies and storage that were
    /// too large to keep or can no longer be decrypted, tab URLs that can no longer be decrypted (one blank tab then).
    /// </summary>
    public (PageCheckpoint Page, IReadOnlyList<string> Missing) Read(SessionCheckpoint saved)
    {
        var (storage, unreadable) = Unprotect(saved.StorageState);
        var (tabs, tabsUnreadable) = ReadTabs(saved);
        var missing = new List<string>();
        if (saved.StorageOmitted)
        {
            missing.Add($"cookies and storage were not kept: they exceeded Sessions:CheckpointMaxBytes ({options.CurrentValue.CheckpointMaxBytes} bytes)");
        }
        else if (unreadable)
        {
            missing.Add("cookies and storage could not be decrypted (the Data Protection key ring changed) and were not restored");
        }

        if (tabsUnreadable)
        {
            missing.Add("the tabs' URLs could not be decrypted (the Data Protection key ring changed); one blank tab was opened");
        }

        return (new PageCheckpoint(tabs, saved.CurrentTab, saved.ViewportWidth, saved.ViewportHeight, storage), missing);
    }

    /// <summary>
    /// Writes while checkpoints are asked for, one per tick of a <see cref="PeriodicTimer"/> of <see cref="Spacing"/> on
    /// the injected clock. The first tick is what is left of the last write's spacing (none: the write starts at once);
    /// <see cref="Hurry"/> stops the timer, and the writes still asked for then start without waiting.
    /// </summary>
    private async Task WriteWhileDueAsync()
    {
        await Task.Yield(); // After the call that asked has answered.
        var left = _lastStartedAt + Spacing - time.GetUtcNow();
        using var spacing = new PeriodicTimer(left > TimeSpan.Zero ? left : Spacing, time);
        _spacing = spacing;
        try
        {
            if (left > TimeSpan.Zero && await spacing.WaitForNextTickAsync())
            {
                spacing.Period = Spacing; // From this write's start.
            }

            while (_due && hostedPage() is { } page)
            {
                _lastStartedAt = time.GetUtcNow();
                await WriteAsync(page);
                if (_due)
                {
                    await spacing.WaitForNextTickAsync(); // False at once when hurried.
                }
            }
        }
        finally
        {
            _spacing = null;
        }
    }

    /// <summary>Decrypts a protected part of the checkpoint; unreadable when the key ring no longer has its key.</summary>
    private (string? Plain, bool Unreadable) Unprotect(string? protectedText)
    {
        if (protectedText is null)
        {
            return (null, false);
        }

        try
        {
            return (Protector.Unprotect(protectedText), false);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return (null, true);
        }
    }

    /// <summary>The checkpoint's tab URLs: encrypted ones, or the plain list of a checkpoint written before tabs were encrypted.</summary>
    private (IReadOnlyList<string> Tabs, bool Unreadable) ReadTabs(SessionCheckpoint saved)
    {
        if (saved.ProtectedTabs is null)
        {
            return (saved.Tabs, false);
        }

        var (json, unreadable) = Unprotect(saved.ProtectedTabs);
        return json is null ? ([], unreadable) : (JsonSerializer.Deserialize<List<string>>(json) ?? [], false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint of session {SessionId} failed")]
    private static partial void LogCheckpointFailed(ILogger logger, string sessionId, Exception exception);
}
