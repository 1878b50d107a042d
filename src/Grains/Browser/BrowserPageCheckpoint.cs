using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>What a session's browser looks like, enough to rebuild it elsewhere: its tabs, cookies and storage, viewport.</summary>
public sealed record PageCheckpoint(IReadOnlyList<string> Tabs, int CurrentTab, int? ViewportWidth, int? ViewportHeight, string? StorageState);

/// <summary>What a session's checkpoint is read from: its <see cref="BrowserPage"/> (a stand-in in tests).</summary>
public interface IPageCheckpoints
{
    /// <summary>The tabs' URLs, which is current, the current viewport and the context's storage state, within <paramref name="limit"/>.</summary>
    Task<PageCheckpoint> CheckpointAsync(TimeSpan limit, CancellationToken cancellationToken);
}

public sealed partial class BrowserPage : IPageCheckpoints
{
    /// <summary>The tabs' URLs, which is current, the current viewport and the context's storage state, within <paramref name="limit"/>.</summary>
    public async Task<PageCheckpoint> CheckpointAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var tabs = _pages.Tabs();
        var current = Math.Max(0, tabs.ToList().FindIndex(t => t.Current));
        var viewport = tabs.Count > 0 ? tabs[current].Page.ViewportSize : null;
        var storage = await StorageStateAsync(limit, cancellationToken);
        return new PageCheckpoint([.. tabs.Select(t => t.Page.Url)], current, viewport?.Width, viewport?.Height, storage);
    }

    /// <summary>
    /// Reopens the <paramref name="checkpoint"/>'s tabs at their URLs (each checked by the URL policy again), selects
    /// the current one and sets its viewport, within <paramref name="deadline"/>. The context was opened with the
    /// checkpoint's storage state. Answers what could not be restored, one line each; the rest is restored regardless.
    /// </summary>
    public async Task<IReadOnlyList<string>> RestoreAsync(PageCheckpoint checkpoint, ActionDeadline deadline)
    {
        var problems = new List<string>();
        for (var i = 0; i < checkpoint.Tabs.Count; i++)
        {
            var url = checkpoint.Tabs[i];
            var blank = string.IsNullOrEmpty(url) || url == "about:blank";
            BrowserAction step = i == 0
                ? (blank ? new TabsAction("list") : new NavigateAction(url))
                : new TabsAction("new", Url: blank ? null : url);
            try
            {
                await RunAsync(step, deadline);
            }
            catch (AnchorException ex)
            {
                problems.Add($"tab {i} ({url}) could not be reopened: {ex.Message}");
            }
        }

        try
        {
            if (checkpoint.Tabs.Count > 1)
            {
                await RunAsync(new TabsAction("select", checkpoint.CurrentTab), deadline);
            }

            if (checkpoint.ViewportWidth is { } width && checkpoint.ViewportHeight is { } height
                && _pages.Current?.ViewportSize is var size && (size is null || size.Width != width || size.Height != height))
            {
                await RunAsync(new ResizeAction(width, height), deadline);
            }
        }
        catch (AnchorException ex)
        {
            problems.Add($"the current tab or viewport could not be set: {ex.Message}");
        }

        _pages.TakeNotes(); // The restore's own navigations are not events for the agent.
        return problems;
    }
}
