using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// The pages (tabs) of one session's context and which one the agent works on. Bounded by
/// <c>Browser:MaxPagesPerSession</c>: a page opened past it is closed at once. A page opened while an agent's
/// element action runs (a link with <c>target=_blank</c>) becomes the current page, as it would for a person; pages
/// a script opens by itself stay in the background. When the current page closes, the most recent remaining page
/// becomes current; when none remains, or the current one crashed, the next action gets a fresh blank page.
/// JavaScript dialogs are answered at once (alert, confirm and prompt dismissed; beforeunload accepted, so
/// navigations are never held up), unless the agent said how to answer the next one (<see cref="AnswerNextDialog"/>).
/// What happened between calls is reported in the next result: at most <see cref="MaxNotes"/> notes of at most
/// <see cref="MaxNoteChars"/> each, then how many more there were (a popup or dialog loop makes one per window).
/// Playwright raises its events on its own thread: state is guarded by a lock.
/// </summary>
public sealed class PageSet
{
    /// <summary>Notes kept between two calls; past it they are only counted.</summary>
    public const int MaxNotes = 20;

    /// <summary>Characters of one note at most.</summary>
    public const int MaxNoteChars = 500;

    private readonly Lock _gate = new();
    private readonly IBrowserContext _context;
    private readonly int _max;
    private readonly List<IPage> _pages = [];
    private readonly List<string> _notes = [];
    private int _notesDropped;
    private IPage? _current;
    private bool _crashed;
    private (bool Accept, string? PromptText)? _nextDialog;
    private IFileChooser? _fileChooser;

    public PageSet(IBrowserContext context, IPage first, int maxPages)
    {
        _context = context;
        _max = maxPages;
        Track(first);
        _current = first;
        context.Page += (_, page) => Opened(page);
        context.Dialog += (_, dialog) => Answer(dialog);
    }

    /// <summary>A download began on one of the pages (raised on Playwright's thread).</summary>
    public event Action<IDownload>? Download;

    private long _followUntil;
    private TaskCompletionSource? _nextPage;

    /// <summary>
    /// A page that opens from now until <paramref name="window"/> has passed becomes the current page: an element
    /// action opened it (a link with <c>target=_blank</c>, a button calling <c>window.open</c>), the page's own
    /// timers did not. Called when an element action starts and again, with a short window, when it ends.
    /// </summary>
    public void FollowNewPagesFor(TimeSpan window) =>
        Interlocked.Exchange(ref _followUntil, Environment.TickCount64 + (long)window.TotalMilliseconds);

    private bool FollowNewPages => Environment.TickCount64 < Interlocked.Read(ref _followUntil);

    /// <summary>Completes when the next page opens (kept or refused).</summary>
    public Task NextPageAsync()
    {
        lock (_gate)
        {
            _nextPage ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _nextPage.Task;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pages.Count;
            }
        }
    }

    /// <summary>The current page, if there is a usable one (not closed, not crashed).</summary>
    public IPage? Current
    {
        get
        {
            lock (_gate)
            {
                return _crashed ? null : _current;
            }
        }
    }

    /// <summary>The page to act on: the current one, or a fresh blank page when it closed or crashed.</summary>
    public async Task<IPage> CurrentAsync(ActionDeadline deadline)
    {
        IPage? crashed;
        lock (_gate)
        {
            if (_current is { IsClosed: false } current && !_crashed)
            {
                return current;
            }

            crashed = _crashed ? _current : null;
        }

        if (crashed is not null)
        {
            Forget(crashed);
            Observe(crashed.CloseAsync());
        }

        var page = await deadline.Bound(_context.NewPageAsync());
        lock (_gate)
        {
            _crashed = false;
            if (!_pages.Contains(page))
            {
                Track(page);
            }

            _current = page;
        }

        return page;
    }

    /// <summary>
    /// Gives up on the current page (its renderer no longer answers, e.g. a script that loops forever): closes it
    /// without running unload handlers; the next action opens a fresh page.
    /// </summary>
    public void Discard(string why)
    {
        IPage? page;
        lock (_gate)
        {
            page = _current;
            _crashed = true;
            Note(why);
        }

        if (page is not null)
        {
            Forget(page);
            Observe(page.CloseAsync(new PageCloseOptions { RunBeforeUnload = false }));
        }
    }

    /// <summary>The open pages in the order they opened, and which is current.</summary>
    public IReadOnlyList<(IPage Page, bool Current)> Tabs()
    {
        lock (_gate)
        {
            return [.. _pages.Where(p => !p.IsClosed).Select(p => (p, ReferenceEquals(p, _current) && !_crashed))];
        }
    }

    /// <summary>Opens a blank tab and makes it current, within <c>Browser:MaxPagesPerSession</c>.</summary>
    public async Task<IPage> NewAsync(ActionDeadline deadline)
    {
        lock (_gate)
        {
            if (_pages.Count >= _max)
            {
                throw new AnchorException(ErrorCodes.InvalidArgument, $"the session already holds {_max} tabs (Browser:MaxPagesPerSession); close one first.");
            }
        }

        var page = await deadline.Bound(_context.NewPageAsync());
        lock (_gate)
        {
            if (!_pages.Contains(page))
            {
                Track(page);
            }

            _current = page;
            _crashed = false;
            _notes.Clear(); // Its own opening is the result, not an event.
        }

        return page;
    }

    /// <summary>Makes tab <paramref name="index"/> (as <see cref="Tabs"/> numbers them) current.</summary>
    public IPage Select(int index)
    {
        lock (_gate)
        {
            var page = TabAt(index);
            _current = page;
            _crashed = false;
            return page;
        }
    }

    /// <summary>Closes tab <paramref name="index"/>, or the current tab; the most recent remaining tab becomes current.</summary>
    public async Task CloseAsync(int? index, ActionDeadline deadline)
    {
        IPage page;
        lock (_gate)
        {
            page = index is { } i ? TabAt(i) : _current ?? throw NoTab(0);
        }

        await deadline.Bound(page.CloseAsync(new PageCloseOptions { RunBeforeUnload = false }));
        lock (_gate)
        {
            _notes.Clear(); // The close is the result, not an event.
        }
    }

    /// <summary>The file chooser the page opened last and nobody answered yet, taken (it can be answered once).</summary>
    public IFileChooser? TakeFileChooser()
    {
        lock (_gate)
        {
            var chooser = _fileChooser;
            _fileChooser = null;
            return chooser is { Page.IsClosed: false } ? chooser : null;
        }
    }

    /// <summary>The next JavaScript dialog is answered this way (once); the default answer resumes afterwards.</summary>
    public void AnswerNextDialog(bool accept, string? promptText)
    {
        lock (_gate)
        {
            _nextDialog = (accept, promptText);
        }
    }

    private IPage TabAt(int index)
    {
        var open = _pages.Where(p => !p.IsClosed).ToList();
        return index >= 0 && index < open.Count ? open[index] : throw NoTab(index);
    }

    private AnchorException NoTab(int index) =>
        new(ErrorCodes.InvalidArgument, $"invalid_argument: there is no tab {index}; list them with browser_tabs {{ action: list }} ({_pages.Count(p => !p.IsClosed)} open).");

    /// <summary>What happened to pages and dialogs since the last call, oldest first, and how many more; clears the list.</summary>
    public IReadOnlyList<string> TakeNotes()
    {
        lock (_gate)
        {
            var notes = _notes.ToList();
            if (_notesDropped > 0)
            {
                notes.Add($"{_notesDropped} more page event{(_notesDropped == 1 ? " was" : "s were")} not kept: a session reports at most {MaxNotes} between two calls.");
            }

            _notes.Clear();
            _notesDropped = 0;
            return notes;
        }
    }

    /// <summary>Keeps a note for the next result, within <see cref="MaxNotes"/>; call under the lock.</summary>
    private void Note(string note)
    {
        if (_notes.Count >= MaxNotes)
        {
            _notesDropped++;
            return;
        }

        _notes.Add(note.Length > MaxNoteChars ? note[..MaxNoteChars] + "…" : note);
    }

    private void Opened(IPage page)
    {
        bool refused;
        lock (_gate)
        {
            if (_pages.Contains(page))
            {
                return;
            }

            _nextPage?.TrySetResult();
            _nextPage = null;

            refused = _pages.Count >= _max;
            if (refused)
            {
                Note($"A new page was closed at once: a session holds at most {_max} pages (Browser:MaxPagesPerSession).");
            }
            else
            {
                Track(page);
                if (FollowNewPages || _current is null or { IsClosed: true })
                {
                    _current = page;
                    _crashed = false;
                    Note("A new tab opened and is now the current page.");
                }
                else
                {
                    Note($"The page opened a new tab in the background ({_pages.Count} open); the current page did not change.");
                }
            }
        }

        if (refused)
        {
            Observe(page.CloseAsync(new PageCloseOptions { RunBeforeUnload = false }));
        }
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, PageActivity> _activity = [];

    /// <summary>What <paramref name="page"/> logged and requested.</summary>
    public PageActivity ActivityOf(IPage page) => _activity.GetValue(page, static _ => new PageActivity());

    private void Track(IPage page)
    {
        _pages.Add(page);
        ActivityOf(page).Watch(page);
        page.Close += (_, closed) => Closed(closed);
        page.Crash += (_, crashed) => Crashed(crashed);
        page.Download += (_, download) => Download?.Invoke(download);
        page.FileChooser += (_, chooser) =>
        {
            lock (_gate)
            {
                _fileChooser = chooser;
                Note("The page opened a file chooser; answer it with browser_file_upload.");
            }
        };
    }

    private void Forget(IPage page)
    {
        lock (_gate)
        {
            _pages.Remove(page);
        }
    }

    private void Closed(IPage page)
    {
        lock (_gate)
        {
            var wasCurrent = ReferenceEquals(page, _current);
            if (!_pages.Remove(page) || !wasCurrent)
            {
                return;
            }

            _current = _pages.LastOrDefault(p => !p.IsClosed);
            _crashed = false;
            Note(_current is null ? "The current page closed; the next action opens a blank page." : "The current tab closed; the most recent remaining tab is now the current page.");
        }
    }

    /// <summary>
    /// Marks <paramref name="page"/> crashed when an action failed because its renderer stopped, whether or not
    /// Playwright's crash event has arrived yet, so the next action starts on a fresh page (the error already said so).
    /// </summary>
    public void MarkCrashed(IPage page, bool note = false)
    {
        lock (_gate)
        {
            if (ReferenceEquals(page, _current) && !_crashed)
            {
                _crashed = true;
                if (note)
                {
                    Note(CrashedNote);
                }
            }
        }
    }

    private const string CrashedNote = "The page crashed (its renderer process stopped); the session continues on a fresh blank page — navigate again.";

    private void Crashed(IPage page)
    {
        lock (_gate)
        {
            if (ReferenceEquals(page, _current))
            {
                if (_crashed)
                {
                    return; // Already known (an action failed on it first and said so).
                }

                _crashed = true;
                Note(CrashedNote);
            }
            else
            {
                _pages.Remove(page);
            }
        }
    }

    private void Answer(IDialog dialog)
    {
        (bool Accept, string? PromptText)? asked;
        lock (_gate)
        {
            asked = _nextDialog;
            _nextDialog = null;
        }

        var accept = asked?.Accept ?? dialog.Type == "beforeunload";
        lock (_gate)
        {
            var message = dialog.Message.Length > 200 ? dialog.Message[..200] + "…" : dialog.Message;
            var how = asked is null ? "" : " as browser_handle_dialog asked";
            Note($"The page showed a JavaScript {dialog.Type} dialog (\"{message}\"); it was {(accept ? "accepted" : "dismissed")}{how}.");
        }

        Observe(accept ? dialog.AcceptAsync(asked?.PromptText) : dialog.DismissAsync());
    }

    private static void Observe(Task task) => ActionDeadline.Observe(task);
}
