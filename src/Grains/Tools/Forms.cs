using System.ComponentModel;
using System.Text.Json.Serialization;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// <c>browser_fill_form</c>, <c>browser_file_upload</c> and <c>browser_drop</c>: form fields, and files or data the
/// agent sends (content, never server paths; together at most <c>Browser:MaxUploadBytes</c>).
/// </summary>
public sealed class Forms(ToolCall call, IOptionsMonitor<BrowserOptions> browserOptions) : IBrowserToolFamily
{
    private const string PathsHelp = "Not available here: server paths are refused; send files with content.";

    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<FillFormAction>(changesPage: true, FillFormAsync),
        ActionHandler.For<FileUploadAction>(changesPage: true, UploadAsync),
        ActionHandler.For<DropAction>(changesPage: true, DropAsync),
    ];

    [BrowserTool("browser_fill_form", "Fill form", typeof(FillFormAction))]
    [Description("Fills several form fields in one call (textbox, checkbox, radio, combobox, slider) and returns the page state.")]
    public Task<object> FillFormAsync(
        [Description("The fields: { name, type: textbox|checkbox|radio|combobox|slider, target, element?, value } — for a checkbox value is true or false, for a combobox the option's text.")] FormFieldArgument[] fields,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default) =>
        call.TextAsync(session_id, new FillFormAction([.. fields.Select(f => new FormField(new ElementTarget(f.Target, f.Element ?? f.Name), f.Type, f.Value))]), cancellationToken);

    [BrowserTool("browser_file_upload", "Upload files", typeof(FileUploadAction))]
    [Description("Uploads files whose content you send (base64) into a file input (target) or into the file chooser the page opened last. A shared service has no disk of yours: paths are refused.")]
    public Task<object> FileUploadAsync(
        [Description("The files: { name, content (base64), mimeType? }; together at most Browser:MaxUploadBytes once decoded.")] UploadFileArgument[]? files = null,
        [Description("The file input: a ref from browser_snapshot or a selector. Omit to answer the file chooser the page opened.")] string? target = null,
        [Description("Human-readable description of the file input.")] string? element = null,
        [Description(PathsHelp)] string[]? paths = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var decoded = Files(files, paths);
        return decoded.Count == 0
            ? throw new AnchorException(ErrorCodes.InvalidArgument, "files is required: [{ name, content (base64), mimeType? }].")
            : call.TextAsync(session_id, new FileUploadAction(decoded, target is { Length: > 0 } t ? new ElementTarget(t, element) : null), cancellationToken);
    }

    [BrowserTool("browser_drop", "Drop files or data onto an element", typeof(DropAction))]
    [Description("Drops files (content you send, base64) and/or MIME-typed data onto an element, as if dragged from outside the page, and returns the page state. At least one of files or data is required; server paths are refused.")]
    public Task<object> DropAsync(
        [Description("The element to drop onto: a ref from browser_snapshot or a selector.")] string target,
        [Description("Human-readable description of the element.")] string? element = null,
        [Description("Data to drop, as a map of MIME type to string value (e.g. {\"text/plain\": \"hello\", \"text/uri-list\": \"https://example.com\"}).")] Dictionary<string, string>? data = null,
        [Description("Files to drop: { name, content (base64), mimeType? }; together at most Browser:MaxUploadBytes once decoded.")] UploadFileArgument[]? files = null,
        [Description(PathsHelp)] string[]? paths = null,
        [Description(ToolHelp.SessionId)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var decoded = Files(files, paths);
        return decoded.Count == 0 && data is not { Count: > 0 }
            ? throw new AnchorException(ErrorCodes.InvalidArgument, "give files ([{ name, content (base64) }]) or data ({ \"text/plain\": \"…\" }) to drop.")
            : call.TextAsync(session_id, new DropAction(new ElementTarget(target, element), decoded, data ?? []), cancellationToken);
    }

    /// <summary>The files an agent sent (never server paths), decoded and within <c>Browser:MaxUploadBytes</c> together.</summary>
    private List<UploadFile> Files(UploadFileArgument[]? files, string[]? paths)
    {
        if (paths is { Length: > 0 })
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "paths on the server's disk are not available in a shared service; send each file as { name, content (base64) } in files.");
        }

        var limit = browserOptions.CurrentValue.MaxUploadBytes;
        var decoded = (files ?? []).Select(f => new UploadFile(f.Name, f.MimeType ?? "application/octet-stream", Decode(f))).ToList();
        var total = decoded.Sum(f => (long)f.Content.Length);
        return total > limit
            ? throw new AnchorException(ErrorCodes.InvalidArgument, $"the files hold {total} bytes, more than Browser:MaxUploadBytes ({limit}).")
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
            throw new AnchorException(ErrorCodes.InvalidArgument, $"the content of '{file.Name}' is not base64.");
        }
    }

    private static async Task<ActionResult> FillFormAsync(BrowserPage browser, IPage page, FillFormAction a, ActionDeadline deadline)
    {
        foreach (var field in a.Fields)
        {
            var locator = BrowserPage.Resolve(page, field.Element);
            var timeout = browser.ElementTimeout(deadline);
            switch (field.Type)
            {
                case "textbox" or "slider":
                    await locator.FillAsync(field.Value, new LocatorFillOptions { Timeout = timeout });
                    break;
                case "checkbox" or "radio":
                    await locator.SetCheckedAsync(field.Value is "true" or "checked" or "on", new LocatorSetCheckedOptions { Timeout = timeout });
                    break;
                case "combobox":
                    await locator.SelectOptionAsync(new SelectOptionValue { Label = field.Value }, new LocatorSelectOptionOptions { Timeout = timeout });
                    break;
                default:
                    throw new AnchorException(ErrorCodes.InvalidArgument, $"field type must be textbox, checkbox, radio, combobox or slider (got '{field.Type}').");
            }
        }

        return await browser.StateAsync(page, deadline, $"Filled {a.Fields.Count} field{(a.Fields.Count == 1 ? "" : "s")}: {string.Join(", ", a.Fields.Select(f => PageText.Describe(f.Element)))}");
    }

    private static async Task<ActionResult> UploadAsync(BrowserPage browser, IPage page, FileUploadAction a, ActionDeadline deadline)
    {
        var files = a.Files.Select(f => new FilePayload { Name = f.Name, MimeType = f.MimeType, Buffer = f.Content }).ToArray();
        if (a.Element is { } element)
        {
            await BrowserPage.Resolve(page, element).SetInputFilesAsync(files, new LocatorSetInputFilesOptions { Timeout = browser.ElementTimeout(deadline) });
        }
        else if (browser.Pages.TakeFileChooser() is { } chooser)
        {
            await chooser.SetFilesAsync(files, new FileChooserSetFilesOptions { Timeout = deadline.TimeoutMs });
        }
        else
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "no file chooser is open; pass target (the file input) or click the upload button first.");
        }

        return await browser.StateAsync(page, deadline, $"Uploaded {string.Join(", ", a.Files.Select(f => $"{f.Name} ({f.Content.Length} bytes)"))}");
    }

    private static async Task<ActionResult> DropAsync(BrowserPage browser, IPage page, DropAction a, ActionDeadline deadline)
    {
        var payload = new DropPayload
        {
            Files = a.Files.Count == 0 ? null : [.. a.Files.Select(f => new FilePayload { Name = f.Name, MimeType = f.MimeType, Buffer = f.Content })],
            Data = a.Data.Count == 0 ? null : a.Data,
        };
        await BrowserPage.Resolve(page, a.Element).DropAsync(payload, new LocatorDropOptions { Timeout = browser.ElementTimeout(deadline) });
        var what = string.Join(", ", [.. a.Files.Select(f => $"{f.Name} ({f.Content.Length} bytes)"), .. a.Data.Keys]);
        return await browser.StateAsync(page, deadline, $"Dropped {what} onto {PageText.Describe(a.Element)}");
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
