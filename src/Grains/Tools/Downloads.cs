using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// <c>browser_download</c>: a file the session downloaded (a click or navigation that started a download lists it
/// in its result), returned as an embedded resource; nothing is written where an agent says.
/// </summary>
public sealed class Downloads(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<DownloadAction>(changesPage: false, DownloadAsync),
    ];

    [BrowserTool("browser_download", "Get a downloaded file", typeof(DownloadAction))]
    [Description("Returns a file the session downloaded as an embedded resource (base64 with its media type). A click or navigation that starts a download waits for it and lists it under ### Downloads with its index, name, size and type; files are held by the session (at most Browser:MaxDownloadBytes each) and deleted when it ends.")]
    public Task<object> DownloadAsync(
        [Description("The download's index, as the action that downloaded it listed it.")] int index,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.DownloadAsync(session_id, new DownloadAction(index), cancellationToken);

    private static async Task<ActionResult> DownloadAsync(BrowserPage browser, IPage page, DownloadAction a, ActionDeadline deadline)
    {
        var (info, content) = await deadline.Bound(browser.Downloads.ReadAsync(a.Index, deadline.Token));
        return browser.Inspect($"Download {info.Index}: {info.Name} ({info.Size} bytes, {info.Type}).") with { Downloads = [info], DownloadContent = content };
    }
}
