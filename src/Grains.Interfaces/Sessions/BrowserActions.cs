namespace Anchor.Orleans.Grains.Interfaces.Sessions;

/// <summary>
/// An element on the page: <see cref="Target"/> is a <c>ref</c> from the latest snapshot (<c>e6</c>) or a
/// Playwright selector; <see cref="Description"/> is the human description agents send as <c>element</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.ElementTarget")]
public sealed record ElementTarget([property: Id(0)] string Target, [property: Id(1)] string? Description = null);

/// <summary>One thing to do in a browser session. Tools and task steps are both made of these.</summary>
[GenerateSerializer, Immutable, Alias("anchor.BrowserAction")]
public abstract record BrowserAction
{
    /// <summary>The tool or step name, for logs and metrics.</summary>
    public abstract string Name { get; }
}

[GenerateSerializer, Immutable, Alias("anchor.NavigateAction")]
public sealed record NavigateAction([property: Id(0)] string Url) : BrowserAction
{
    public override string Name => "navigate";
}

[GenerateSerializer, Immutable, Alias("anchor.NavigateBackAction")]
public sealed record NavigateBackAction : BrowserAction
{
    public override string Name => "navigate_back";
}

/// <summary>An accessibility snapshot of the page, or of one element (<see cref="Element"/>), optionally limited in depth.</summary>
[GenerateSerializer, Immutable, Alias("anchor.SnapshotAction")]
public sealed record SnapshotAction(
    [property: Id(0)] ElementTarget? Element = null,
    [property: Id(1)] int? Depth = null,
    [property: Id(2)] bool Boxes = false) : BrowserAction
{
    public override string Name => "snapshot";
}

[GenerateSerializer, Immutable, Alias("anchor.ClickAction")]
public sealed record ClickAction(
    [property: Id(0)] ElementTarget Element,
    [property: Id(1)] bool DoubleClick = false,
    [property: Id(2)] string? Button = null,
    [property: Id(3)] IReadOnlyList<string>? Modifiers = null) : BrowserAction
{
    public override string Name => "click";
}

[GenerateSerializer, Immutable, Alias("anchor.TypeAction")]
public sealed record TypeAction(
    [property: Id(0)] ElementTarget Element,
    [property: Id(1)] string Text,
    [property: Id(2)] bool Submit = false,
    [property: Id(3)] bool Slowly = false) : BrowserAction
{
    public override string Name => "type";
}

[GenerateSerializer, Immutable, Alias("anchor.PressKeyAction")]
public sealed record PressKeyAction([property: Id(0)] string Key) : BrowserAction
{
    public override string Name => "press_key";
}

[GenerateSerializer, Immutable, Alias("anchor.SelectOptionAction")]
public sealed record SelectOptionAction([property: Id(0)] ElementTarget Element, [property: Id(1)] IReadOnlyList<string> Values) : BrowserAction
{
    public override string Name => "select_option";
}

[GenerateSerializer, Immutable, Alias("anchor.HoverAction")]
public sealed record HoverAction([property: Id(0)] ElementTarget Element) : BrowserAction
{
    public override string Name => "hover";
}

/// <summary>Waits for a time (seconds), for text to appear, or for text to disappear.</summary>
[GenerateSerializer, Immutable, Alias("anchor.WaitForAction")]
public sealed record WaitForAction(
    [property: Id(0)] double? TimeSeconds = null,
    [property: Id(1)] string? Text = null,
    [property: Id(2)] string? TextGone = null) : BrowserAction
{
    public override string Name => "wait_for";
}

[GenerateSerializer, Immutable, Alias("anchor.ScreenshotAction")]
public sealed record ScreenshotAction(
    [property: Id(0)] bool FullPage = false,
    [property: Id(1)] ElementTarget? Element = null,
    [property: Id(2)] bool DeviceScale = false) : BrowserAction
{
    public override string Name => "screenshot";
}

/// <summary>Records from a list: one per <see cref="ItemSelector"/> match, each field a CSS selector, optionally <c>css@attribute</c>.</summary>
[GenerateSerializer, Immutable, Alias("anchor.ExtractAction")]
public sealed record ExtractAction(
    [property: Id(0)] string? Url,
    [property: Id(1)] string ItemSelector,
    [property: Id(2)] IReadOnlyDictionary<string, string> Fields) : BrowserAction
{
    public override string Name => "extract";
}

/// <summary>Several actions in one call, stopping at the first that fails.</summary>
[GenerateSerializer, Immutable, Alias("anchor.RunTaskAction")]
public sealed record RunTaskAction([property: Id(0)] string Url, [property: Id(1)] IReadOnlyList<BrowserAction> Steps) : BrowserAction
{
    public override string Name => "run_task";
}

/// <summary>
/// What an action produced: text for the agent, a PNG for screenshots, JSON for structured tools; and what it cost:
/// <see cref="ChargedUsd"/> for this call, <see cref="SessionCostUsd"/> the session's cost so far (minutes and actions).
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.ActionResult")]
public sealed record ActionResult(
    [property: Id(0)] string Text,
    [property: Id(1)] byte[]? Png = null,
    [property: Id(2)] ExtractResult? Extract = null,
    [property: Id(3)] IReadOnlyList<TaskStepResult>? Steps = null,
    [property: Id(4)] byte[]? Pdf = null)
{
    [Id(5)]
    public decimal ChargedUsd { get; init; }

    [Id(6)]
    public decimal SessionCostUsd { get; init; }

    /// <summary>Set on the first answer after the session was rebuilt from its checkpoint on another silo.</summary>
    [Id(7)]
    public SessionRestored? Restored { get; init; }

    /// <summary>Set on the first answer after a hand-off to a person ended (<c>_meta["anchor/handoff"]</c>).</summary>
    [Id(8)]
    public Live.HandoffOutcome? Handoff { get; init; }

    /// <summary>The URL of the session's current page after the action, as the timeline shows it (credentials masked there).</summary>
    [Id(9)]
    public string? PageUrl { get; init; }

    /// <summary>
    /// The downloads this action completed (a click or navigation that started one), or the one <c>browser_download</c>
    /// returned. Ids from 20 leave room for other fields.
    /// </summary>
    [Id(20)]
    public IReadOnlyList<DownloadInfo>? Downloads { get; init; }

    /// <summary>The bytes of the download <c>browser_download</c> returned (its <see cref="Downloads"/> holds the one entry).</summary>
    [Id(21)]
    public byte[]? DownloadContent { get; init; }
}

/// <summary>A file the session downloaded and holds until it ends: its <see cref="Index"/> for <c>browser_download</c>, name, size in bytes and media type.</summary>
[GenerateSerializer, Immutable, Alias("anchor.DownloadInfo")]
public sealed record DownloadInfo(
    [property: Id(0)] int Index,
    [property: Id(1)] string Name,
    [property: Id(2)] long Size,
    [property: Id(3)] string Type);

/// <summary>Returns download <see cref="Index"/> the session holds (<c>browser_download</c>), never written where an agent says.</summary>
[GenerateSerializer, Immutable, Alias("anchor.DownloadAction")]
public sealed record DownloadAction([property: Id(0)] int Index) : BrowserAction
{
    public override string Name => "download";
}

/// <summary>
/// The session moved: its silo drained (<c>drained</c>) or was lost (<c>lost</c>), and this silo rebuilt its browser
/// from the checkpoint taken at <see cref="CheckpointAt"/>. Element refs from before are void: snapshot again.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.SessionRestored")]
public sealed record SessionRestored(
    [property: Id(0)] string Reason,
    [property: Id(1)] DateTimeOffset CheckpointAt,
    [property: Id(2)] int Tabs,
    [property: Id(3)] IReadOnlyList<string> NotRestored);

/// <summary>
/// What a close did: whether it ended an open session and, for the close that ended it, what the settlement charged
/// beyond the actions already charged (<see cref="ChargedUsd"/>: the open minutes) and the session's final cost.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.SessionClose")]
public sealed record SessionClose([property: Id(0)] bool Closed, [property: Id(1)] decimal ChargedUsd = 0, [property: Id(2)] decimal CostUsd = 0);

[GenerateSerializer, Immutable, Alias("anchor.ExtractResult")]
public sealed record ExtractResult(
    [property: Id(0)] IReadOnlyList<IReadOnlyDictionary<string, string?>> Records,
    [property: Id(1)] double Completeness,
    [property: Id(2)] bool Cached,
    [property: Id(3)] bool Truncated = false);

[GenerateSerializer, Immutable, Alias("anchor.TaskStepResult")]
public sealed record TaskStepResult(
    [property: Id(0)] string Action,
    [property: Id(1)] bool Ok,
    [property: Id(2)] long Ms,
    [property: Id(3)] string? Error);

/// <summary>Lists, opens, closes or selects the session's tabs (<c>browser_tabs</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.TabsAction")]
public sealed record TabsAction([property: Id(0)] string Operation, [property: Id(1)] int? Index = null, [property: Id(2)] string? Url = null) : BrowserAction
{
    public override string Name => "tabs";
}

/// <summary>How to answer the next JavaScript dialog (<c>browser_handle_dialog</c>); without it dialogs are dismissed.</summary>
[GenerateSerializer, Immutable, Alias("anchor.HandleDialogAction")]
public sealed record HandleDialogAction([property: Id(0)] bool Accept, [property: Id(1)] string? PromptText = null) : BrowserAction
{
    public override string Name => "handle_dialog";
}

/// <summary>Sets the viewport of the current page (<c>browser_resize</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.ResizeAction")]
public sealed record ResizeAction([property: Id(0)] int Width, [property: Id(1)] int Height) : BrowserAction
{
    public override string Name => "resize";
}

/// <summary>The current page's console messages at a level or more severe (<c>browser_console_messages</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.ConsoleMessagesAction")]
public sealed record ConsoleMessagesAction([property: Id(0)] string Level = "info", [property: Id(1)] bool All = false) : BrowserAction
{
    public override string Name => "console_messages";
}

/// <summary>The current page's requests since it loaded (<c>browser_network_requests</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.NetworkRequestsAction")]
public sealed record NetworkRequestsAction([property: Id(0)] bool Static = false, [property: Id(1)] string? Filter = null) : BrowserAction
{
    public override string Name => "network_requests";
}

/// <summary>
/// One request of the current page in full (<c>browser_network_request</c>): <see cref="Number"/> as
/// <c>browser_network_requests</c> printed it; <see cref="Part"/> request-headers, request-body, response-headers or
/// response-body, or null for the summary with both header sets.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.NetworkRequestAction")]
public sealed record NetworkRequestAction([property: Id(0)] int Number, [property: Id(1)] string? Part = null) : BrowserAction
{
    public override string Name => "network_request";
}

/// <summary>Drops files and/or MIME-typed data onto an element as if dragged from outside the page (<c>browser_drop</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.DropAction")]
public sealed record DropAction(
    [property: Id(0)] ElementTarget Element,
    [property: Id(1)] IReadOnlyList<UploadFile> Files,
    [property: Id(2)] IReadOnlyDictionary<string, string> Data) : BrowserAction
{
    public override string Name => "drop";
}

/// <summary>Drags one element onto another (<c>browser_drag</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.DragAction")]
public sealed record DragAction([property: Id(0)] ElementTarget Start, [property: Id(1)] ElementTarget End) : BrowserAction
{
    public override string Name => "drag";
}

/// <summary>CSS media emulation (<c>browser_emulate_media</c>); null leaves a feature unchanged.</summary>
[GenerateSerializer, Immutable, Alias("anchor.EmulateMediaAction")]
public sealed record EmulateMediaAction(
    [property: Id(0)] string? ColorScheme = null,
    [property: Id(1)] string? ReducedMotion = null,
    [property: Id(2)] string? Media = null,
    [property: Id(3)] string? ForcedColors = null,
    [property: Id(4)] string? Contrast = null) : BrowserAction
{
    public override string Name => "emulate_media";
}

/// <summary>Searches the current page's accessibility snapshot for text or a regular expression (<c>browser_find</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.FindAction")]
public sealed record FindAction([property: Id(0)] string? Text = null, [property: Id(1)] string? Regex = null) : BrowserAction
{
    public override string Name => "find";
}

/// <summary>Runs a JavaScript function on the page or on one element (<c>browser_evaluate</c>, opt-in per client).</summary>
[GenerateSerializer, Immutable, Alias("anchor.EvaluateAction")]
public sealed record EvaluateAction([property: Id(0)] string Function, [property: Id(1)] ElementTarget? Element = null) : BrowserAction
{
    public override string Name => "evaluate";
}

/// <summary>One field of <c>browser_fill_form</c>: textbox, checkbox, radio, combobox or slider.</summary>
[GenerateSerializer, Immutable, Alias("anchor.FormField")]
public sealed record FormField([property: Id(0)] ElementTarget Element, [property: Id(1)] string Type, [property: Id(2)] string Value);

[GenerateSerializer, Immutable, Alias("anchor.FillFormAction")]
public sealed record FillFormAction([property: Id(0)] IReadOnlyList<FormField> Fields) : BrowserAction
{
    public override string Name => "fill_form";
}

/// <summary>A file the agent sends with <c>browser_file_upload</c> (content, not a server path).</summary>
[GenerateSerializer, Immutable, Alias("anchor.UploadFile")]
public sealed record UploadFile([property: Id(0)] string Name, [property: Id(1)] string MimeType, [property: Id(2)] byte[] Content);

/// <summary>Sets the files of a file input, or of the file chooser the page opened last (<c>browser_file_upload</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.FileUploadAction")]
public sealed record FileUploadAction([property: Id(0)] IReadOnlyList<UploadFile> Files, [property: Id(1)] ElementTarget? Element = null) : BrowserAction
{
    public override string Name => "file_upload";
}

/// <summary>The current page as PDF (<c>browser_pdf_save</c>), returned to the agent, never written to disk.</summary>
[GenerateSerializer, Immutable, Alias("anchor.PdfAction")]
public sealed record PdfAction : BrowserAction
{
    public override string Name => "pdf_save";
}

/// <summary>
/// The coordinate (vision) tools, opt-in per client: <see cref="Kind"/> is click, move, drag, down, up or wheel;
/// (<see cref="X"/>, <see cref="Y"/>) is the point (wheel: the deltas), (<see cref="X2"/>, <see cref="Y2"/>) a drag's end.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.MouseAction")]
public sealed record MouseAction(
    [property: Id(0)] string Kind,
    [property: Id(1)] double X = 0,
    [property: Id(2)] double Y = 0,
    [property: Id(3)] double X2 = 0,
    [property: Id(4)] double Y2 = 0,
    [property: Id(5)] string? Button = null,
    [property: Id(6)] int ClickCount = 1,
    [property: Id(7)] double DelayMs = 0) : BrowserAction
{
    public override string Name => $"mouse_{Kind}";
}
