using System.Collections.Concurrent;
using System.Collections.Frozen;
using Anchor.Orleans.Grains.Clients;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>
/// What the service knows about one MCP tool, declared next to the tool with <see cref="ToolFactsAttribute"/> and read
/// everywhere from the <see cref="ToolCatalogue"/>. What a call costs is not a fact of the tool: the session grain
/// charges each browser action it ran (a task: its steps and its first navigation) and reports the charge with the
/// result, so the receipt, the log line, the trace and the ledger read one number.
/// </summary>
/// <param name="Name">The MCP tool name.</param>
/// <param name="Free">Spends nothing, so admission skips the budget check: an out-of-budget client can still read its status and close sessions.</param>
/// <param name="Search">Visits a page to find results: counts toward the search statistics and the search-timeout alert.</param>
/// <param name="OptIn">Off unless a client's <c>Tools:Allow</c> names it (by name, or by a pattern that matches only opt-in tools).</param>
/// <param name="Extraction">Produces records: a failure counts toward the extraction-failure alert.</param>
/// <param name="ChangesPage">Runs a browser action that changes the page (its tool is not read-only; the session checkpoints after it).</param>
public sealed record ToolFacts(string Name, bool Free = false, bool Search = false, bool OptIn = false, bool Extraction = false, bool ChangesPage = false);

/// <summary>Declares a tool method's <see cref="ToolFacts"/> (the method's <c>McpServerTool</c> attribute gives the name).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class ToolFactsAttribute : Attribute
{
    public bool Free { get; init; }

    public bool Search { get; init; }

    public bool OptIn { get; init; }

    public bool Extraction { get; init; }

    public ToolFacts For(string name) => new(name, Free, Search, OptIn, Extraction);
}

/// <summary>
/// Every tool this service serves, by name: the one place that says which tools are free, searches, opt-in, and which
/// names exist at all (an unknown name is a protocol error and never a metric label). Filled from the
/// <see cref="ToolFacts"/> registered in the container (the MCP front registers one per tool method).
/// </summary>
public sealed class ToolCatalogue
{
    private readonly FrozenDictionary<string, ToolFacts> _tools;

    // Per allow pattern: does it match opt-in tools only? Patterns come from configuration, so this stays small.
    private readonly ConcurrentDictionary<string, bool> _optInPatterns = new(StringComparer.Ordinal);

    public ToolCatalogue(IEnumerable<ToolFacts> tools)
    {
        _tools = tools.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public IEnumerable<ToolFacts> All => _tools.Values;

    public ToolFacts? Find(string? name) => name is not null && _tools.TryGetValue(name, out var facts) ? facts : null;

    /// <summary>
    /// Whether <paramref name="client"/> may see and call <paramref name="tool"/>: a deny pattern wins; an opt-in tool
    /// needs an allow pattern that names it and matches opt-in tools only (<c>*</c> and <c>browser_*</c> never turn
    /// one on, <c>browser_mouse_*</c> does); allow patterns that are not opt-in restrict the client to what they match,
    /// and naming opt-in tools restricts nothing.
    /// </summary>
    public bool Allows(ClientPolicy client, ToolFacts tool)
    {
        if (client.ToolDeny.Any(p => Matches(p, tool.Name)))
        {
            return false;
        }

        if (tool.OptIn)
        {
            return client.ToolAllow.Any(p => Matches(p, tool.Name) && NamesOnlyOptIn(p));
        }

        var restricting = client.ToolAllow.Where(p => !NamesOnlyOptIn(p)).ToList();
        return restricting.Count == 0 || restricting.Any(p => Matches(p, tool.Name));
    }

    private bool NamesOnlyOptIn(string pattern) => _optInPatterns.GetOrAdd(pattern, p =>
    {
        var matched = _tools.Values.Where(t => Matches(p, t.Name)).ToList();
        return matched.Count > 0 && matched.All(t => t.OptIn);
    });

    private static bool Matches(string pattern, string tool) =>
        pattern.EndsWith('*')
            ? tool.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : string.Equals(pattern, tool, StringComparison.Ordinal);
}
