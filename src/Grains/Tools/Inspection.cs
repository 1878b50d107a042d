using System.ComponentModel;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// <c>browser_console_messages</c>, <c>browser_network_requests</c>, <c>browser_network_request</c> and
/// <c>browser_evaluate</c> (opt-in per client): what the current page logged and fetched, and scripts run in it.
/// </summary>
public sealed class Inspection(ToolCall call) : IBrowserToolFamily
{
    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<ConsoleMessagesAction>(changesPage: false, static (browser, page, a, _) => Task.FromResult(browser.Inspect(PageActivity.IsKnownLevel(a.Level)
            ? PageInspection.Console(browser.Pages.ActivityOf(page).Console(a.Level, a.All), a)
            : throw new AnchorException(ErrorCodes.InvalidArgument, $"level must be error, warning, info or debug (got '{a.Level}').")))),
        ActionHandler.For<NetworkRequestsAction>(changesPage: false, static (browser, page, a, deadline) => Task.FromResult(
            browser.Inspect(PageInspection.Requests(browser.Pages.ActivityOf(page).Requests(a.Static), a, browser.SearchBudgetOf(deadline))))),
        ActionHandler.For<NetworkRequestAction>(changesPage: false, static async (browser, page, a, deadline) => browser.Inspect(await RequestDetails.DescribeAsync(
            browser.Pages.ActivityOf(page).Request(a.Number)
                ?? throw new AnchorException(ErrorCodes.InvalidArgument, $"there is no request #{a.Number} since the page loaded; list them with browser_network_requests."),
            a.Part,
            deadline))),
        ActionHandler.For<EvaluateAction>(changesPage: true, static async (browser, page, a, deadline) => browser.Inspect("### Result\n" + await PageReads.EvaluateAsync(
            page, a.Element is { } element ? BrowserPage.Resolve(page, element) : null, a.Function, browser.ElementTimeout(deadline), deadline))),
    ];

    [BrowserTool("browser_console_messages", "Get console messages", typeof(ConsoleMessagesAction))]
    [Description("Returns the current tab's console messages (uncaught errors included), each level including the more severe ones.")]
    public Task<object> ConsoleMessagesAsync(
        [Description("Level of the console messages to return: error, warning, info (default) or debug. Each level includes the messages of more severe levels.")] string level = "info",
        [Description("Return all console messages since the tab opened, not just since the last navigation.")] bool all = false,
        [Description(ToolHelp.FileName)] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new ConsoleMessagesAction(level, all), cancellationToken);

    [BrowserTool("browser_network_requests", "List network requests", typeof(NetworkRequestsAction))]
    [Description("Returns a numbered list of the current tab's network requests since the page loaded: method, URL (without query string), resource type and status or failure.")]
    public Task<object> NetworkRequestsAsync(
        [Description("Whether to include successful static resources like images, fonts, scripts, etc. Defaults to false.")] bool @static = false,
        [Description("Only return requests whose URL matches this regular expression (e.g. \"/api/.*user\").")] string? filter = null,
        [Description(ToolHelp.FileName)] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new NetworkRequestsAction(@static, filter), cancellationToken);

    [BrowserTool("browser_network_request", "Show network request details", typeof(NetworkRequestAction))]
    [Description("Returns one request of the current tab in full: status, type and both header sets (credentials masked), or only one part. Use the number browser_network_requests printed.")]
    public Task<object> NetworkRequestAsync(
        [Description("1-based index of the request, as printed by browser_network_requests.")] int index,
        [Description("Return only this part: request-headers, request-body, response-headers or response-body (bodies up to 64 KB of text). Omit for the summary.")] string? part = null,
        [Description(ToolHelp.FileName)] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new NetworkRequestAction(index, part), cancellationToken);

    [BrowserTool("browser_evaluate", "Evaluate JavaScript", typeof(EvaluateAction), OptIn = true)]
    [Description("Evaluates a JavaScript function on the page, or on one element, and returns its result as JSON. Off unless the operator allows it for your client (Anchor:Clients:<id>:Tools:Allow).")]
    public Task<object> EvaluateAsync(
        [Description("() => { /* code */ } or (element) => { /* code */ } when target is provided.")] string function,
        [Description("The element to pass to the function: a ref from browser_snapshot or a selector.")] string? target = null,
        [Description("Human-readable description of the element.")] string? element = null,
        [Description(ToolHelp.FileName)] string? filename = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new EvaluateAction(function, target is { Length: > 0 } t ? new ElementTarget(t, element) : null), cancellationToken);
}
