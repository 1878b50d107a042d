using System.Security.Cryptography;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser.Downloads;

/// <summary>
/// The files one session downloaded: each finished download is checked against <c>Browser:MaxDownloadBytes</c>
/// (a larger one is deleted and reported), copied into the session's own temporary directory under a name of the
/// service's choosing (never one the page or the agent gave), and Chromium's copy deleted. The action during which a
/// download started waits for it within its deadline and lists it (<see cref="SettleAsync"/>); a download still
/// running at the deadline is cancelled. <see cref="Dispose"/> (the session ends, or moves: downloads do not travel
/// with a checkpoint) deletes the directory. Playwright raises its events on its own thread: state is guarded by a lock.
/// </summary>
public sealed class SessionDownloads : IDisposable
{
    private readonly Lock _gate = new();
    private readonly long _maxBytes;
    private readonly List<(DownloadInfo Info, string Path)> _held = [];
    private readonly List<(IDownload Download, Task<Outcome> Accepted)> _running = [];
    private TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _lastAccepted = Task.CompletedTask;
    private int _next;
    private bool _disposed;

    public SessionDownloads(long maxBytes)
    {
        _maxBytes = maxBytes;
        Directory = System.IO.Path.Combine(Root, RandomNumberGenerator.GetHexString(16, lowercase: true));
    }

    /// <summary>Where every session's directory lives: the system's temporary directory.</summary>
    public static string Root { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "anchor-downloads");

    /// <summary>This session's directory, created with its first download.</summary>
    public string Directory { get; }

    /// <summary>A download began on one of the session's pages.</summary>
    public void Started(IDownload download)
    {
        lock (_gate)
        {
            // Held (and numbered) in the order they start, whichever finishes first: a task's downloads are listed by step.
            var accepted = AcceptAsync(download, _lastAccepted);
            _lastAccepted = accepted;
            _running.Add((download, accepted));
            _started.TrySetResult();
        }
    }

    /// <summary>Completes once a download has begun since the last <see cref="SettleAsync"/> (a navigation said one is starting).</summary>
    public Task StartedAsync()
    {
        lock (_gate)
        {
            return _started.Task;
        }
    }

    /// <summary>
    /// Waits within <paramref name="deadline"/> for every download begun since the last call, and lists those now held
    /// in <paramref name="result"/>; throws the refusal when one was past the bound or failed. A download still running
    /// at the deadline is cancelled and reported as a timeout.
    /// </summary>
    public async Task<ActionResult> SettleAsync(ActionResult result, ActionDeadline deadline)
    {
        List<(IDownload Download, Task<Outcome> Accepted)> running;
        lock (_gate)
        {
            running = [.. _running];
            _running.Clear();
            _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (running.Count == 0)
        {
            return result;
        }

        try
        {
            await deadline.Bound(Task.WhenAll(running.Select(r => r.Accepted)));
        }
        catch (TimeoutException)
        {
            var late = running.Where(r => !r.Accepted.IsCompleted).ToList();
            foreach (var (download, _) in late)
            {
                ActionDeadline.Observe(download.CancelAsync());
            }

            throw new AnchorException(
                ErrorCodes.Timeout,
                $"the download of {string.Join(", ", late.Select(r => DownloadRules.NameOf(r.Download.SuggestedFilename)))} did not finish within the action's {deadline.Limit.TotalSeconds:0.#} s and was cancelled.");
        }

        var outcomes = running.Select(r => r.Accepted.Result).ToList();
        if (outcomes.FirstOrDefault(o => o.Refusal is not null) is { Refusal: { } refusal })
        {
            throw new AnchorException(ErrorCodes.BrowserError, refusal);
        }

        var held = outcomes.Select(o => o.Held!).ToList();
        return result with { Text = DownloadRules.Append(result.Text, held), Downloads = held };
    }

    /// <summary>Download <paramref name="index"/> and its bytes; <c>invalid_argument</c> when the session does not hold it.</summary>
    public async Task<(DownloadInfo Info, byte[] Content)> ReadAsync(int index, CancellationToken cancellationToken)
    {
        (DownloadInfo Info, string Path) found;
        lock (_gate)
        {
            found = _held.FirstOrDefault(h => h.Info.Index == index);
            if (found.Path is null)
            {
                var held = _held.Count == 0 ? "it holds none" : "it holds " + string.Join(", ", _held.Select(h => h.Info.Index));
                throw new AnchorException(
                    ErrorCodes.InvalidArgument,
                    $"there is no download {index} in this session ({held}); downloads are listed in the result of the action that made them and deleted when the session ends or moves.");
            }
        }

        return (found.Info, await File.ReadAllBytesAsync(found.Path, cancellationToken));
    }

    private async Task<Outcome> AcceptAsync(IDownload download, Task previous)
    {
        var name = DownloadRules.NameOf(download.SuggestedFilename);
        try
        {
            if (await download.FailureAsync() is { } failure)
            {
                return new(null, $"browser_error: the download of {name} failed ({failure}).");
            }

            // Chromium's copy is checked before it is copied (a remote browser's has no local path: the copy is checked).
            if (await LocalPathAsync(download) is { } path && DownloadRules.Refusal(name, new FileInfo(path).Length, _maxBytes) is { } early)
            {
                await download.DeleteAsync();
                return new(null, early);
            }

            System.IO.Directory.CreateDirectory(Directory);
            var target = System.IO.Path.Combine(Directory, RandomNumberGenerator.GetHexString(16, lowercase: true));
            await download.SaveAsAsync(target);
            await download.DeleteAsync();
            var size = new FileInfo(target).Length;
            if (DownloadRules.Refusal(name, size, _maxBytes) is { } refusal)
            {
                File.Delete(target);
                return new(null, refusal);
            }

            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            return Hold(name, size, target);
        }
        catch (Exception ex) when (ex is PlaywrightException or IOException or UnauthorizedAccessException)
        {
            return new(null, $"browser_error: the download of {name} failed ({BrowserEngine.FirstLine(ex.Message)}).");
        }
        finally
        {
            if (Volatile.Read(ref _disposed))
            {
                DeleteDirectory(); // The session ended while this download was landing.
            }
        }
    }

    private Outcome Hold(string name, long size, string path)
    {
        var evicted = new List<string>();
        try
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    evicted.Add(path);
                    return new(null, $"browser_error: the download of {name} finished after the session closed and was deleted.");
                }

                var evict = DownloadRules.ToEvict([.. _held.Select(h => h.Info.Size)], size, _maxBytes * DownloadRules.MaxHeldDownloads);
                evicted.AddRange(_held.Take(evict).Select(h => h.Path));
                _held.RemoveRange(0, evict);
                var info = new DownloadInfo(_next++, name, size, DownloadRules.TypeOf(name));
                _held.Add((info, path));
                return new(info, null);
            }
        }
        finally
        {
            evicted.ForEach(DeleteQuietly);
        }
    }

    private static async Task<string?> LocalPathAsync(IDownload download)
    {
        try
        {
            return await download.PathAsync();
        }
        catch (PlaywrightException)
        {
            return null;
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory goes with the session.
        }
    }

    /// <summary>Deletes every held file and the session's directory; a download finishing later is deleted as it lands.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _held.Clear();
        }

        DeleteDirectory();
    }

    private void DeleteDirectory()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file still being written: the download that lands after this deletes the directory again.
        }
    }

    private sealed record Outcome(DownloadInfo? Held, string? Refusal);
}
