using System.ComponentModel;
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
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

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

/// <summary>Whole tasks in one call: structured extraction (cached cluster-wide) and multi-step scripts.</summary>
[McpServerToolType]
public sealed class TaskTools(IGrainFactory grains, BrowserTools browser, UrlPolicy urls, ClientPolicies policies, IOptionsMonitor<BrowserOptions> options, AnchorMetrics metrics)
{
    /// <summary>Steps one task may hold: a task runs in one grain turn, and its time is bounded by the action timeout.</summary>
    public const int MaxSteps = 50;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [ToolFacts(Search = true, Extraction = true)]
    [McpServerTool(Name = "browser_extract", Title = "Extract records", ReadOnly = true, OpenWorld = true)]
    [Description("Extracts structured records from a page: one record per element matching item_selector, each field read with a CSS selector relative to the item (text), or selector@attribute (an attribute, e.g. a@href; @href for the item itself). Returns { records, completeness (fields found ÷ fields asked), cached, truncated (true when the page held more than 1,000 records or 500,000 characters, or a value was longer than 10,000 characters, and the rest was left out) }. With url, navigates there first and identical requests are served from a cache for a few minutes.")]
    public async Task<CallToolResult> ExtractAsync(
        RequestContext<CallToolRequestParams> context,
        [Description("CSS selector matching each item, e.g. ul.results > li.")] string item_selector,
        [Description("Field name to selector, e.g. { \"title\": \"h2\", \"price\": \".price\", \"link\": \"a@href\" }.")] Dictionary<string, string> fields,
        [Description("Page to extract from; omit to use the page the session is on.")] string? url = null,
        [Description("Browser session to use; omit for your default session.")] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var action = ExtractOf(url, item_selector, fields);
        var ttl = TimeSpan.FromSeconds(options.CurrentValue.ExtractCacheSeconds);
        var clientId = ToolContext.ClientIdOf(context.User);
        var cache = url is { Length: > 0 } && ttl > TimeSpan.Zero ? grains.GetGrain<IExtractCacheGrain>(CacheKey(clientId, action)) : null;
        if (cache is not null)
        {
            // A client gets cached records only for a URL it may still visit (its policy may have changed since).
            await urls.CheckAsync(url!, policies.For(clientId).AllowedHosts, cancellationToken);
            var hit = await cache.GetAsync();
            metrics.CacheLookup(hit is not null);
            if (hit is not null)
            {
                return ToolResults.Json(PageText.ToJson(hit with { Cached = true }));
            }
        }

        var result = await browser.ExecuteAsync(context, session_id, action, cancellationToken);
        if (cache is not null && result.Extract is { } extract)
        {
            await cache.SetAsync(extract, ttl);
        }

        return ToolResults.Text(result.Text);
    }

    [ToolFacts(Search = true)]
    [McpServerTool(Name = "browser_run_task", Title = "Run a task", OpenWorld = true)]
    [Description("Opens url, then runs the steps in order in one call, stopping at the first that fails. Steps: { action: navigate, url } | { action: click, target } | { action: type, target, text, submit? } | { action: select, target, values } | { action: wait, time? | text? } | { action: extract, item_selector, fields }. Returns { steps: [ { action, ok, ms, error? } ], extract? }.")]
    public async Task<CallToolResult> RunTaskAsync(
        RequestContext<CallToolRequestParams> context,
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
        var result = await browser.ExecuteAsync(context, session_id, new RunTaskAction(url, actions), cancellationToken);
        return ToolResults.Text(result.Text);
    }

    private static ExtractAction ExtractOf(string? url, string? itemSelector, Dictionary<string, string>? fields, string where = "")
    {
        if (string.IsNullOrWhiteSpace(itemSelector))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: {where}item_selector is required.");
        }

        if (fields is not { Count: > 0 } || fields.Any(f => string.IsNullOrWhiteSpace(f.Key) || string.IsNullOrWhiteSpace(f.Value)))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"invalid_argument: {where}fields must map at least one name to a selector.");
        }

        return new ExtractAction(url, itemSelector, fields);
    }

    private static BrowserAction StepOf(TaskStep step, int index)
    {
        var where = $"steps[{index}].";
        ElementTarget Target() => ToolContext.Element(step.Target, step.Ref, step.Selector, null);
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
}
