using System.Collections.Frozen;
using System.Reflection;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// A family of browser tools, declared in one file as playwright-mcp's <c>defineTool</c> files do: its public methods
/// marked <see cref="BrowserToolAttribute"/> are the MCP tools (their parameters, with <c>[Description]</c>, are the
/// input schema; the MCP front registers them), and <see cref="Handlers"/> says how each action runs on the page and
/// whether it changes the page. A family is found by this interface: adding a tool is one file (plus its tests).
/// </summary>
public interface IBrowserToolFamily
{
    /// <summary>How each of the family's actions runs on the page.</summary>
    static abstract IEnumerable<ActionHandler> Handlers { get; }
}

/// <summary>
/// The front's side of one tool call, handed to a family when the call arrives: who calls, how an action runs in the
/// caller's session (the default one without <c>sessionId</c>), and the front's own answers, opaque here.
/// </summary>
public abstract class ToolCall
{
    /// <summary>The calling client.</summary>
    public abstract string ClientId { get; }

    /// <summary>Runs <paramref name="action"/> in the session (charged, receipted) and returns what it produced.</summary>
    public abstract Task<ActionResult> ExecuteAsync(string? sessionId, BrowserAction action, CancellationToken cancellationToken);

    /// <summary>An answer of text.</summary>
    public abstract object Text(string text);

    /// <summary>An answer of the result's text and its PNG.</summary>
    public abstract object Image(ActionResult result);

    /// <summary>An answer of the result's text and its PDF as a resource named <paramref name="name"/>.</summary>
    public abstract object Pdf(ActionResult result, string name);

    /// <summary>An answer of the result's text and its one download as a resource.</summary>
    public abstract object Download(ActionResult result);

    public async Task<object> DownloadAsync(string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        Download(await ExecuteAsync(sessionId, action, cancellationToken));

    public async Task<object> TextAsync(string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        Text((await ExecuteAsync(sessionId, action, cancellationToken)).Text);

    public async Task<object> ImageAsync(string? sessionId, BrowserAction action, CancellationToken cancellationToken) =>
        Image(await ExecuteAsync(sessionId, action, cancellationToken));

    public async Task<object> PdfAsync(string? sessionId, BrowserAction action, string name, CancellationToken cancellationToken) =>
        Pdf(await ExecuteAsync(sessionId, action, cancellationToken), name);
}

/// <summary>
/// Marks a family method as an MCP tool and declares its facts. <see cref="ReadOnly"/> is not declared: it is the
/// opposite of the action's <see cref="ActionHandler.ChangesPage"/>, the same fact that decides checkpoints.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class BrowserToolAttribute(string name, string title, Type action) : Attribute
{
    public string Name { get; } = name;

    public string Title { get; } = title;

    /// <summary>The <see cref="BrowserAction"/> the tool runs.</summary>
    public Type Action { get; } = action;

    public bool Search { get; init; }

    public bool OptIn { get; init; }

    public bool Extraction { get; init; }

    /// <summary>
    /// The record the tool answers with as JSON (written with <see cref="ToolJson.Options"/>): its <c>outputSchema</c>,
    /// and its answer is also given as <c>structuredContent</c>. None for a tool that answers with text.
    /// </summary>
    public Type? Output { get; init; }

    /// <summary>The MCP <c>readOnlyHint</c>: true when the action leaves the page as it was, absent otherwise.</summary>
    public bool? ReadOnly => BrowserToolTable.ChangesPage(Action) ? null : true;

    public ToolFacts Facts => new(Name, Search: Search, OptIn: OptIn, Extraction: Extraction, ChangesPage: BrowserToolTable.ChangesPage(Action));
}

/// <summary>
/// How one <see cref="BrowserAction"/> runs on the session's current page, and whether it changes the page (a
/// navigation, an input, a new tab): a change asks the session for a checkpoint, and a tool whose action does not
/// change the page is annotated read-only.
/// </summary>
public sealed record ActionHandler(Type Action, bool ChangesPage, Func<BrowserPage, IPage, BrowserAction, ActionDeadline, Task<ActionResult>> Run)
{
    /// <summary>Where the action takes the page, if anywhere: traced, and it lets the agent leave a page past its byte budget.</summary>
    public Func<BrowserAction, string?> Destination { get; init; } = static _ => null;

    /// <summary>Whether a tab that opens just after the action counts as opened by it (element actions, not the page's own popups).</summary>
    public Func<BrowserAction, bool> MayOpenTab { get; init; } = static _ => false;

    public static ActionHandler For<TAction>(
        bool changesPage,
        Func<BrowserPage, IPage, TAction, ActionDeadline, Task<ActionResult>> run,
        Func<TAction, string?>? destination = null,
        Func<TAction, bool>? mayOpenTab = null)
        where TAction : BrowserAction => new(typeof(TAction), changesPage, (browser, page, action, deadline) => run(browser, page, (TAction)action, deadline))
        {
            Destination = destination is null ? static _ => null : action => destination((TAction)action),
            MayOpenTab = mayOpenTab is null ? static _ => false : action => mayOpenTab((TAction)action),
        };
}

/// <summary>Every browser tool family of this assembly and the table of their action handlers.</summary>
public static class BrowserToolTable
{
    /// <summary>The families, found by <see cref="IBrowserToolFamily"/>.</summary>
    public static IReadOnlyList<Type> Families { get; } = [.. typeof(BrowserToolTable).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IBrowserToolFamily).IsAssignableFrom(t))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)];

    private static readonly FrozenDictionary<Type, ActionHandler> Handlers = Families
        .SelectMany(f => (IEnumerable<ActionHandler>)f.GetProperty(nameof(IBrowserToolFamily.Handlers), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)
        .ToFrozenDictionary(h => h.Action);

    /// <summary>The handler of <paramref name="action"/>'s type, or null when no family declares one.</summary>
    public static ActionHandler? Find(BrowserAction action) => Handlers.GetValueOrDefault(action.GetType());

    /// <summary>Whether an action of this type changes the page (an undeclared one, which cannot run, is assumed to).</summary>
    public static bool ChangesPage(Type action) => !Handlers.TryGetValue(action, out var handler) || handler.ChangesPage;

    public static bool ChangesPage(BrowserAction action) => ChangesPage(action.GetType());


}
