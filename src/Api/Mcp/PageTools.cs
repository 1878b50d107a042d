using System.ComponentModel;
using System.Text.Json.Serialization;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// The session's pages as <c>@playwright/mcp</c> shapes them: tabs, the answer to the next dialog, the viewport size,
/// console messages, network requests, search in the snapshot, drag and drop, media emulation.
/// A session holds at most <c>Browser:MaxPagesPerSession</c> tabs and always has one current tab.
/// </summary>
[McpServerToolType]
public sealed class PageTools(BrowserTools browser, IOptionsMonitor<BrowserOptions> browserOptions)
{
    private const string SessionIdHelp = BrowserTools.SessionIdHelp;

    [McpServerTool(Name = "browser_tabs", Title = "Manage tabs", OpenWorld = true)]
    [Description("List, create, close, or select a browser tab. Answers with the open tabs, numbered from 0, the current one marked.")]
    public Task<CallToolResult> TabsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Operation to perform: list, new, close or select.")] string action,
        [Description("Tab index, used for close/select. If omitted for close, the current tab is closed.")] int? index = null,
        [Description("URL to navigate to in the new tab, used for new.")] string? url = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new TabsAction(action, index, url), cancellationToken);

    [McpServerTool(Name = "browser_handle_dialog", Title = "Handle a dialog", OpenWorld = true)]
    [Description("Says how to answer the next JavaScript dialog (alert, confirm, prompt) the page shows: accept it (with text for a prompt) or dismiss it. Dialogs never block a session: without this they are dismissed (beforeunload accepted) and reported in the next result.")]
    public Task<CallToolResult> HandleDialogAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Whether to accept the dialog.")] bool accept,
        [Description("The text of the prompt in case of a prompt dialog.")] string? promptText = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new HandleDialogAction(accept, promptText), cancellationToken);

    [McpServerTool(Name = "browser_resize", Title = "Resize browser window", OpenWorld = true)]
    [Description("Resizes the page's viewport (100 to 10000 pixels each way).")]
    public Task<CallToolResult> ResizeAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Width of the browser window.")] int width,
        [Description("Height of the browser window.")] int height,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new ResizeAction(width, height), cancellationToken);

    private const string FileNameHelp = "Ignored: the result is returned in the answer, never written to the server's disk.";

    [McpServerTool(Name = "browser_console_messages", Title = "Get console messages", ReadOnly = true, OpenWorld = true)]
    [Description("Returns the current tab's console messages (uncaught errors included), each level including the more severe ones.")]
    public Task<CallToolResult> ConsoleMessagesAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Level of the console messages to return: error, warning, info (default) or debug. Each level includes the messages of more severe levels.")] string level = "info",
        [Description("Return all console messages since the tab opened, not just since the last navigation.")] bool all = false,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new ConsoleMessagesAction(level, all), cancellationToken);

    [McpServerTool(Name = "browser_network_requests", Title = "List network requests", ReadOnly = true, OpenWorld = true)]
    [Description("Returns a numbered list of the current tab's network requests since the page loaded: method, URL (without query string), resource type and status or failure.")]
    public Task<CallToolResult> NetworkRequestsAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Whether to include successful static resources like images, fonts, scripts, etc. Defaults to false.")] bool @static = false,
        [Description("Only return requests whose URL matches this regular expression (e.g. \"/api/.*user\").")] string? filter = null,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new NetworkRequestsAction(@static, filter), cancellationToken);

    [McpServerTool(Name = "browser_emulate_media", Title = "Emulate media", OpenWorld = true)]
    [Description("Emulates CSS media features for the page, e.g. the dark color scheme or print media. Omitted features are left unchanged. forcedColors and contrast are not supported here.")]
    public Task<CallToolResult> EmulateMediaAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("Emulates the prefers-color-scheme media feature: light or dark.")] string? colorScheme = null,
        [Description("Emulates the prefers-reduced-motion media feature: reduce or no-preference.")] string? reducedMotion = null,
        [Description("Emulates the forced-colors media feature (not supported here).")] string? forcedColors = null,
        [Description("Emulates the prefers-contrast media feature (not supported here).")] string? contrast = null,
        [Description("Changes the CSS media type of the page: screen or print.")] string? media = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new EmulateMediaAction(colorScheme, reducedMotion, media, forcedColors, contrast), cancellationToken);

    [ToolFacts(OptIn = true)]
    [McpServerTool(Name = "browser_evaluate", Title = "Evaluate JavaScript", OpenWorld = true)]
    [Description("Evaluates a JavaScript function on the page, or on one element, and returns its result as JSON. Off unless the operator allows it for your client (Anchor:Clients:<id>:Tools:Allow).")]
    public Task<CallToolResult> EvaluateAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("() => { /* code */ } or (element) => { /* code */ } when target is provided.")] string function,
        [Description("The element to pass to the function: a ref from browser_snapshot or a selector.")] string? target = null,
        [Description("Human-readable description of the element.")] string? element = null,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new EvaluateAction(function, target is { Length: > 0 } t ? new ElementTarget(t, element) : null), cancellationToken);

    [McpServerTool(Name = "browser_fill_form", Title = "Fill form", OpenWorld = true)]
    [Description("Fills several form fields in one call (textbox, checkbox, radio, combobox, slider) and returns the page state.")]
    public Task<CallToolResult> FillFormAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The fields: { name, type: textbox|checkbox|radio|combobox|slider, target, element?, value } — for a checkbox value is true or false, for a combobox the option's text.")] FormFieldArgument[] fields,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new FillFormAction([.. fields.Select(f => new FormField(new ElementTarget(f.Target, f.Element ?? f.Name), f.Type, f.Value))]), cancellationToken);

    [McpServerTool(Name = "browser_file_upload", Title = "Upload files", OpenWorld = true)]
    [Description("Uploads files whose content you send (base64) into a file input (target) or into the file chooser the page opened last. A shared service has no disk of yours: paths are refused.")]
    public Task<CallToolResult> FileUploadAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The files: { name, content (base64), mimeType? }; together at most Browser:MaxUploadBytes once decoded.")] UploadFileArgument[]? files = null,
        [Description("The file input: a ref from browser_snapshot or a selector. Omit to answer the file chooser the page opened.")] string? target = null,
        [Description("Human-readable description of the file input.")] string? element = null,
        [Description("Not available here: server paths are refused; send files with content.")] string[]? paths = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var decoded = Files(files, paths);
        return decoded.Count == 0
            ? throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: files is required: [{ name, content (base64), mimeType? }].")
            : browser.RunAsync(context, session_id, new FileUploadAction(decoded, target is { Length: > 0 } t ? new ElementTarget(t, element) : null), cancellationToken);
    }

    [McpServerTool(Name = "browser_drop", Title = "Drop files or data onto an element", OpenWorld = true)]
    [Description("Drops files (content you send, base64) and/or MIME-typed data onto an element, as if dragged from outside the page, and returns the page state. At least one of files or data is required; server paths are refused.")]
    public Task<CallToolResult> DropAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("The element to drop onto: a ref from browser_snapshot or a selector.")] string target,
        [Description("Human-readable description of the element.")] string? element = null,
        [Description("Data to drop, as a map of MIME type to string value (e.g. {\"text/plain\": \"hello\", \"text/uri-list\": \"https://example.com\"}).")] Dictionary<string, string>? data = null,
        [Description("Files to drop: { name, content (base64), mimeType? }; together at most Browser:MaxUploadBytes once decoded.")] UploadFileArgument[]? files = null,
        [Description("Not available here: server paths are refused; send files with content.")] string[]? paths = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var decoded = Files(files, paths);
        return decoded.Count == 0 && data is not { Count: > 0 }
            ? throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: give files ([{ name, content (base64) }]) or data ({ \"text/plain\": \"…\" }) to drop.")
            : browser.RunAsync(context, session_id, new DropAction(new ElementTarget(target, element), decoded, data ?? []), cancellationToken);
    }

    [McpServerTool(Name = "browser_network_request", Title = "Show network request details", ReadOnly = true, OpenWorld = true)]
    [Description("Returns one request of the current tab in full: status, type and both header sets (credentials masked), or only one part. Use the number browser_network_requests printed.")]
    public Task<CallToolResult> NetworkRequestAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("1-based index of the request, as printed by browser_network_requests.")] int index,
        [Description("Return only this part: request-headers, request-body, response-headers or response-body (bodies up to 64 KB of text). Omit for the summary.")] string? part = null,
        [Description(FileNameHelp)] string? filename = null,
        [Description(SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        browser.RunAsync(context, session_id, new NetworkRequestAction(index, part), cancellationToken);

    /// <summary>The files an agent sent (never server paths), decoded and within <c>Browser:MaxUploadBytes</c> together.</summary>
    private List<UploadFile> Files(UploadFileArgument[]? files, string[]? paths)
    {
        if (paths is { Length: > 0 })
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "invalid_argument: paths on the server's disk are not available in a shared service; send each file as { name, content (base64) } in files.");
        }

        var limit = browserOptions.CurrentValue.MaxUploadBytes;
        var decoded = (files ?? []).Select(f => new UploadFile(f.Name, f.MimeType ?? "application/octet-stream", Decode(f))).ToList();
        var total = decoded.Sum(f => (long)f.Content.Length);
        return total > limit
            ? throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: the files hold {total} bytes, more than Browser:MaxUploadBytes ({limit}).")
            : decoded;
    }

    private static byte[] Decode(UploadFileArgument file)
    {
        try
        {
            return Convert.FromBase64String(file.Content);
        }
        catch (FormatException)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: the content of '{file.Name}' is not base64.");
        }
    }

}

/// <summary>One field of <c>browser_fill_form</c>, as the peer names its parts.</summary>
public sealed record FormFieldArgument(
    [property: JsonPropertyName("name"), Description("Human-readable field name.")] string Name,
    [property: JsonPropertyName("type"), Description("textbox, checkbox, radio, combobox or slider.")] string Type,
    [property: JsonPropertyName("target"), Description("A ref from browser_snapshot or a selector.")] string Target,
    [property: JsonPropertyName("value"), Description("The value; true/false for a checkbox, the option's text for a combobox.")] string Value,
    [property: JsonPropertyName("element"), Description("Human-readable description of the element.")] string? Element = null);

/// <summary>A file sent with <c>browser_file_upload</c>.</summary>
public sealed record UploadFileArgument(
    [property: JsonPropertyName("name"), Description("File name, e.g. report.csv.")] string Name,
    [property: JsonPropertyName("content"), Description("The file's bytes, base64.")] string Content,
    [property: JsonPropertyName("mimeType"), Description("MIME type, e.g. text/csv; default application/octet-stream.")] string? MimeType = null);
