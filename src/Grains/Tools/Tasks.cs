using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Extraction;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>One step of <c>browser_run_task</c>.</summary>
public sealed class TaskStep
{
    [Description("navigate, click, type, select, wait or extract.")]
    [JsonPropertyName("action")]
    public string Action { get; set; } = "";

    [Description("navigate: the URL.")]
    [JsonPropertyName("url")]
    public string? Url { get; set; }

    [Description("click, type, select: a ref from a snapshot or a Playwright selector.")]
    [JsonPropertyName("target")]
    public string? Target { get; set; }

    [Description("Alias of target.")]
    [JsonPropertyName("selector")]
    public string? Selector { get; set; }

    [Description("Alias of target.")]
    [JsonPropertyName("ref")]
    public string? Ref { get; set; }

    [Description("type: the text; wait: text to wait for.")]
    [JsonPropertyName("text")]
    public string? Text { get; set; }

    [Description("type: press Enter afterwards.")]
    [JsonPropertyName("submit")]
    public bool Submit { get; set; }

    [Description("select: option values or labels.")]
    [JsonPropertyName("values")]
    public string[]? Values { get; set; }

    [Description("wait: seconds to wait.")]
    [JsonPropertyName("time")]
    public double? Time { get; set; }

    [Description("extract: CSS selector of each item.")]
    [JsonPropertyName("item_selector")]
    public string? ItemSelector { get; set; }

    [Description("extract: field name to CSS selector within the item, or selector@attribute (e.g. a@href).")]
    [JsonPropertyName("fields")]
    public Dictionary<string, string>? Fields { get; set; }
}

/// <summary>What <c>browser_run_task</c> answers: each step run (the first that failed is the last), and the last extraction, if any.</summary>
public sealed record RunTaskResult(
    IReadOnlyList<TaskStepResult> Steps,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ExtractResult? Extract);

/// <summary>
/// <c>browser_extract</c> and <c>browser_run_task</c>: whole tasks in one call, structured extraction (cached
/// cluster-wide) and multi-step scripts. Both may navigate, so neither is read-only.
/// </summary>
public sealed class Tasks(ToolCall call, IGrainFactory grains, UrlPolicy urls, ClientPolicies policies, IOptionsMonitor<BrowserOptions> options, AnchorMetrics metrics) : IBrowserToolFamily
{
    /// <summary>Steps one task may hold: a task runs in one grain turn, and its time is bounded by the action timeout.</summary>
    public const int MaxSteps = 50;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEnumerable<ActionHandler> Handlers =>
    [
        ActionHandler.For<ExtractAction>(changesPage: true, ExtractAsync, destination: static a => a.Url),
        ActionHandler.For<RunTaskAction>(changesPage: true, static (browser, _, task, deadline) => RunTaskAsync(browser, task, deadline), destination: static a => a.Url),
    ];

    [BrowserTool("browser_extract", "Extract records", typeof(ExtractAction), Search = true, Extraction = true, Output = typeof(ExtractResult))]
    [Description("Extracts structured records from a page: one record per element matching item_selector, each field read with a CSS selector relative to the item (text), or selector@attribute (an attribute, e.g. a@href; @href for the item itself). Returns { records, completeness (fields found ÷ fields asked), cached, truncated (true when the page held more than 1,000 records or 500,000 characters, or a value was longer than 10,000 characters, and the rest was left out) }. With url, navigates there first and identical requests are served from a cache for a few minutes.")]
    public async Task<object> ExtractAsync(
        [Description("CSS selector matching each item, e.g. ul.results > li.")] string item_selector,
        [Description("Field name to selector, e.g. { \"title\": \"h2\", \"price\": \".price\", \"link\": \"a@href\" }.")] Dictionary<string, string> fields,
        [Description("Page to extract from; omit to use the page the session is on.")] string? url = null,
        [Description("Browser session to use; omit for your default session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var action = ExtractOf(url, item_selector, fields);
        var ttl = TimeSpan.FromSeconds(options.CurrentValue.ExtractCacheSeconds);
        var clientId = call.ClientId;
        var cache = url is { Length: > 0 } && ttl > TimeSpan.Zero ? grains.GetGrain<IExtractCacheGrain>(CacheKey(clientId, action)) : null;
        if (cache is not null)
        {
            // A client gets cached records only for a URL it may still visit (its policy may have changed since).
            await urls.CheckAsync(url!, policies.For(clientId).AllowedHosts, cancellationToken);
            var hit = await cache.GetAsync();
            metrics.CacheLookup(hit is not null);
            if (hit is not null)
            {
                return call.Text(JsonSerializer.Serialize(hit with { Cached = true }, ToolJson.Options));
            }
        }

        var result = await call.ExecuteAsync(session_id, action, cancellationToken);
        if (cache is not null && result.Extract is { } extract)
        {
            await cache.SetAsync(extract, ttl);
        }

        return call.Text(result.Text);
    }

    [BrowserTool("browser_run_task", "Run a task", typeof(RunTaskAction), Search = true, Output = typeof(RunTaskResult))]
    [Description("Opens url, then runs the steps in order in one call, stopping at the first that fails. Steps: { action: navigate, url } | { action: click, target } | { action: type, target, text, submit? } | { action: select, target, values } | { action: wait, time? | text? } | { action: extract, item_selector, fields }. Returns { steps: [ { action, ok, ms, error? } ], extract? }.")]
    public Task<object> RunTaskAsync(
        [Description("The page to start on.")] string url,
        [Description("The steps to run after opening url.")] TaskStep[] steps,
        [Description("Browser session to use; omit for your default session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        if (steps.Length > MaxSteps)
        {
            throw Invalid($"a task has at most {MaxSteps} steps (got {steps.Length}); split it into several tasks.");
        }

        var actions = steps.Select((s, i) => StepOf(s, i)).ToList();
        return call.TextAsync(session_id, new RunTaskAction(url, actions), cancellationToken);
    }

    private static ExtractAction ExtractOf(string? url, string? itemSelector, Dictionary<string, string>? fields, string where = "")
    {
        if (string.IsNullOrWhiteSpace(itemSelector))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"{where}item_selector is required.");
        }

        if (fields is not { Count: > 0 } || fields.Any(f => string.IsNullOrWhiteSpace(f.Key) || string.IsNullOrWhiteSpace(f.Value)))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"{where}fields must map at least one name to a selector.");
        }

        return new ExtractAction(url, itemSelector, fields);
    }

    private static BrowserAction StepOf(TaskStep step, int index)
    {
        var where = $"steps[{index}].";
        ElementTarget Target() => ToolHelp.ElementOf(step.Target, step.Ref, step.Selector, null);
        return step.Action.ToLowerInvariant() switch
        {
            "navigate" => new NavigateAction(step.Url ?? throw Invalid($"{where}url is required for navigate.")),
            "click" => new ClickAction(Target()),
            "type" => new TypeAction(Target(), step.Text ?? throw Invalid($"{where}text is required for type."), step.Submit),
            "select" => new SelectOptionAction(Target(), step.Values is { Length: > 0 } v ? v : throw Invalid($"{where}values are required for select.")),
            "wait" => step.Time is null && string.IsNullOrEmpty(step.Text)
                ? throw Invalid($"{where}time or text is required for wait.")
                : new WaitForAction(step.Time, step.Text),
            "extract" => ExtractOf(null, step.ItemSelector, step.Fields, where),
            _ => throw Invalid($"{where}action must be navigate, click, type, select, wait or extract (got '{step.Action}')."),
        };
    }

    private static AnchorException Invalid(string message) => new(ErrorCodes.InvalidArgument, $"invalid_argument: {message}");

    /// <summary>
    /// Per client: an extraction is read in the caller's own browser context, with its cookies and logins, so its
    /// records are that client's data. (A shared cache served only from fresh cookie-less contexts would cost a
    /// second context per extraction and return something other than what the agent's session shows.)
    /// </summary>
    private static string CacheKey(string clientId, ExtractAction action)
    {
        var canonical = JsonSerializer.Serialize(new { client = clientId, url = action.Url, item = action.ItemSelector, fields = action.Fields.OrderBy(f => f.Key, StringComparer.Ordinal) }, Json);
        return "extract-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static async Task<ActionResult> ExtractAsync(BrowserPage browser, IPage page, ExtractAction a, ActionDeadline deadline)
    {
        if (!string.IsNullOrWhiteSpace(a.Url))
        {
            await Navigation.GoAsync(browser, page, a.Url, deadline);
            page = await browser.Pages.CurrentAsync(deadline);
        }

        var result = await PageReads.ExtractAsync(page, a, deadline);
        return new ActionResult(JsonSerializer.Serialize(result, ToolJson.Options), Extract: result);
    }

    private static async Task<ActionResult> RunTaskAsync(BrowserPage browser, RunTaskAction task, ActionDeadline deadline)
    {
        var steps = new List<TaskStepResult>();
        ExtractResult? extract = null;
        var total = task.Steps.Count + 1;
        foreach (var step in task.Steps.Prepend(new NavigateAction(task.Url)))
        {
            if (step is RunTaskAction)
            {
                throw new AnchorException(ErrorCodes.InvalidArgument, "a task cannot contain a task.");
            }

            deadline.ThrowIfExpired("run_task");
            var watch = Stopwatch.StartNew();
            try
            {
                var result = await browser.RunOnAsync(await browser.Pages.CurrentAsync(deadline), step, deadline);
                extract = result.Extract ?? extract;
                steps.Add(new TaskStepResult(StepName(step), true, watch.ElapsedMilliseconds, null));
                deadline.StepDone(new TaskStepDone(steps.Count, total, steps[^1]));
            }
            catch (Exception ex) when (ex is AnchorException or PlaywrightException or TimeoutException && !deadline.Token.IsCancellationRequested)
            {
                var failure = ex switch
                {
                    AnchorException a => a,
                    TimeoutException t => new AnchorException(ErrorCodes.Timeout, $"{StepName(step)} did not finish in time ({BrowserEngine.FirstLine(t.Message)})."),
                    _ => BrowserErrors.From(StepName(step), ex.Message, browser.Guard.FailureFor(ex.Message)),
                };
                if (failure.Code == ErrorCodes.UrlBlocked && steps.Count == 0)
                {
                    throw failure;
                }

                steps.Add(new TaskStepResult(StepName(step), false, watch.ElapsedMilliseconds, failure.Message));
                deadline.StepDone(new TaskStepDone(steps.Count, total, steps[^1]));
                break;
            }
        }

        return new ActionResult(JsonSerializer.Serialize(new RunTaskResult(steps, extract), ToolJson.Options), Extract: extract, Steps: steps);
    }

    private static string StepName(BrowserAction step) => step switch
    {
        NavigateAction => "navigate",
        ClickAction => "click",
        TypeAction => "type",
        SelectOptionAction => "select",
        WaitForAction => "wait",
        ExtractAction => "extract",
        _ => step.Name,
    };
}
