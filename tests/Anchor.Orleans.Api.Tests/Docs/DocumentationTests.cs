using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Tests.Docs;

/// <summary>
/// The documentation against the code: every configuration key, endpoint, tool and repository path that README.md,
/// docs/ and bench/README.md name exists; every option and every served tool is documented; every relative link
/// (and its heading anchor) resolves.
/// </summary>
public sealed partial class DocumentationTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    /// <summary>Names the docs mention on purpose although nothing serves them (said so where they appear).</summary>
    private static readonly HashSet<string> NotOffered = ["browser_run_code_unsafe"];

    private static readonly string[] EndpointRoots = ["/api/", "/health", "/status", "/metrics", "/mcp", "/sse", "/message", "/dashboard", "/openapi", "/live", "/console"];

    private static readonly Lazy<IReadOnlyList<Doc>> AllDocs = new(() =>
    [
        .. new[] { "README.md", Path.Combine("bench", "README.md") }.Select(Doc.Read),
        .. Directory.EnumerateFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories)
            .Select(path => Doc.Read(Path.GetRelativePath(Repository.Root, path))),
    ]);

    private static IReadOnlyList<Doc> Docs => AllDocs.Value;

    [Fact]
    public void EveryConfigurationKeyNamed_IsAnOption()
    {
        var unknown = Docs
            .SelectMany(doc => Keys(doc.Text).Select(key => (doc.Name, key)))
            .Where(named => !OptionKeys.Resolves(named.key))
            .Select(named => $"{named.Name}: {named.key}")
            .Distinct()
            .ToList();

        Assert.True(unknown.Count == 0, string.Join(Environment.NewLine, unknown));
    }

    [Fact]
    public void EveryOption_IsDocumentedInConfiguration()
    {
        var documented = Keys(Docs.Single(d => d.Name == Path.Combine("docs", "configuration.md")).Text)
            .Select(OptionKeys.Normalize)
            .ToHashSet(StringComparer.Ordinal);

        var leaves = OptionKeys.Leaves().ToList();
        Assert.Contains("Anchor:Sessions:MaxConcurrent", leaves);
        Assert.Contains("Anchor:Clients:<id>:Tools:Allow", leaves);
        Assert.Contains("Anchor:Redis:ConnectionString", leaves);

        // A list of records (API keys, previous certificates) counts as documented by its own key or by its fields'.
        var missing = leaves
            .Select(OptionKeys.Normalize)
            .Where(key => !documented.Contains(key) && !documented.Any(d => d.StartsWith(key + ":", StringComparison.Ordinal)))
            .ToList();

        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Fact]
    public void EveryToolNamed_IsServed_AndEveryServedToolIsInTheToolReference()
    {
        var served = fixture.Host.Services.GetServices<McpServerTool>().Select(t => t.ProtocolTool.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("browser_navigate", served);

        var named = Docs.SelectMany(doc => ToolName().Matches(doc.Text).Select(m => (doc.Name, tool: m.Groups[1].Value))).Where(n => !ErrorCodeNames.Contains(n.tool));
        var unknown = named.Where(n => !served.Contains(n.tool) && !NotOffered.Contains(n.tool)).Select(n => $"{n.Name}: {n.tool}").Distinct().ToList();
        Assert.True(unknown.Count == 0, string.Join(Environment.NewLine, unknown));

        var reference = ToolName().Matches(Docs.Single(d => d.Name == Path.Combine("docs", "tools.md")).Text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var undocumented = served.Where(tool => !reference.Contains(tool) && !CoveredByPattern(tool, reference)).Order(StringComparer.Ordinal).ToList();
        Assert.True(undocumented.Count == 0, string.Join(Environment.NewLine, undocumented));
    }

    [Fact]
    public void EveryEndpointNamed_IsMapped()
    {
        var routes = fixture.Host.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(e => NormalizeRoute("/" + (e.RoutePattern.RawText ?? "").TrimStart('/')))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("/api/sessions", routes);

        var unknown = Docs
            .SelectMany(doc => Endpoint().Matches(doc.Text).Select(m => (doc.Name, path: m.Groups[1].Value)))
            .Where(n => EndpointRoots.Any(root => n.path.StartsWith(root, StringComparison.Ordinal)))
            .Where(n => !n.path.Contains('…') && !n.path.Contains('*'))
            .Where(n => NormalizeRoute(n.path) is var path && !routes.Contains(path) && !routes.Any(r => r.StartsWith(path + "/", StringComparison.Ordinal)))
            .Select(n => $"{n.Name}: {n.path}")
            .Distinct()
            .ToList();

        Assert.True(unknown.Count == 0, string.Join(Environment.NewLine, unknown));
    }

    [Fact]
    public void EveryRepositoryPathNamed_Exists()
    {
        var missing = Docs
            .SelectMany(doc => RepositoryPath().Matches(doc.Text).Select(m => (doc.Name, path: m.Groups[1].Value)))
            .Where(n => n.path.IndexOfAny(['<', '*', '…', '{']) < 0 && !n.path.Contains("...", StringComparison.Ordinal))
            .Where(n => !File.Exists(Repository.PathOf(n.path)) && !Directory.Exists(Repository.PathOf(n.path)))
            .Select(n => $"{n.Name}: {n.path}")
            .Distinct()
            .ToList();

        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Fact]
    public void EveryRelativeLink_Resolves_WithItsAnchor()
    {
        var broken = new List<string>();
        foreach (var doc in Docs)
        {
            foreach (Match link in Link().Matches(doc.Text))
            {
                var target = link.Groups[1].Value;
                if (target.StartsWith("http:", StringComparison.Ordinal) || target.StartsWith("https:", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var (file, anchor) = target.Split('#', 2) is [var f, var a] ? (f, a) : (target, null);
                var path = file.Length == 0 ? Repository.PathOf(doc.Name) : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Repository.PathOf(doc.Name))!, file));
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    broken.Add($"{doc.Name}: {target}");
                }
                else if (anchor is not null && File.Exists(path) && !Anchors(File.ReadAllText(path)).Contains(anchor))
                {
                    broken.Add($"{doc.Name}: {target} (no such heading)");
                }
            }
        }

        Assert.True(broken.Count == 0, string.Join(Environment.NewLine, broken));
    }

    /// <summary>The stable error codes look like tool names (<c>browser_error</c>, <c>budget_exceeded</c>).</summary>
    private static readonly HashSet<string> ErrorCodeNames = typeof(Grains.Interfaces.Errors.ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    private static bool CoveredByPattern(string tool, IEnumerable<string> reference) =>
        tool.StartsWith("browser_mouse_", StringComparison.Ordinal) && reference.Any(r => r.StartsWith("browser_mouse_", StringComparison.Ordinal));

    private static IEnumerable<string> Keys(string text) => ConfigurationKey().Matches(text).Select(m => m.Groups[1].Value.Split('=')[0].TrimEnd('.', ',', ':'));

    private static string NormalizeRoute(string path)
    {
        var route = RouteParameter().Replace(Placeholder().Replace(path.Split('?')[0].TrimEnd('/'), "{}"), "{}") is { Length: > 0 } p ? p : "/";

        // Legacy SSE clients are configured with /sse and /message; a middleware serves them from the MCP group.
        return route is "/sse" or "/message" ? "/mcp" + route : route;
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static HashSet<string> Anchors(string markdown) =>
        Heading().Matches(markdown)
            .Select(m => Regex.Replace(m.Groups[1].Value.Trim().ToLowerInvariant().Replace("`", ""), @"[^\p{L}\p{N} _-]", "").Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"`(Anchor:[^`\s]+)`")]
    private static partial Regex ConfigurationKey();

    [GeneratedRegex(@"`((?:browser|budget)_[a-z_]+)`")]
    private static partial Regex ToolName();

    [GeneratedRegex(@"`(?:(?:GET|POST|PUT|DELETE) )?(/[a-z][^`\s]*)`")]
    private static partial Regex Endpoint();

    [GeneratedRegex(@"[`(]((?:scripts|src|tests|deploy|docs|bench)/[^`)\s#]*)[`)#]")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();

    /// <summary>A placeholder the docs write in examples: <c>/api/sessions/&lt;id&gt;/live</c>.</summary>
    [GeneratedRegex(@"<[^>/]+>")]
    private static partial Regex Placeholder();

    private sealed record Doc(string Name, string Text)
    {
        public static Doc Read(string name) =>
            new(name, CodeBlock().Replace(File.ReadAllText(Repository.PathOf(name)), m => m.Value.Contains("Anchor:", StringComparison.Ordinal) ? m.Value : ""));
    }

    [GeneratedRegex(@"^```[a-z]*\n.*?^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    /// <summary>
    /// The configuration keys the options classes bind: every type with a <c>SectionName</c> constant under
    /// <c>Anchor</c>, the hosting options at its root, and per-client policy under <c>Anchor:Clients:&lt;id&gt;</c>.
    /// </summary>
    private static class OptionKeys
    {
        // A section may be bound by more than one options class (Anchor:Console: timelines, and the console's sign-in).
        private static readonly Lazy<ILookup<string, Type>> Sections = new(() =>
        {
            var sections = new List<(string Section, Type Type)>();
            foreach (var type in new[] { typeof(AnchorHostingOptions).Assembly, typeof(Api.Mcp.BrowserTools).Assembly }.SelectMany(a => a.GetTypes()))
            {
                if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field)
                {
                    sections.Add(((string)field.GetRawConstantValue()!, type));
                }
            }

            foreach (var property in Settable(typeof(AnchorHostingOptions)))
            {
                sections.Add((property.Name, property.PropertyType));
            }

            return sections.ToLookup(x => x.Section, x => x.Type, StringComparer.Ordinal);
        });

        public static string Normalize(string key) => Regex.Replace(key, @":(<[^>]+>|N|\d+)(?=:|$)", ":<>");

        public static bool Resolves(string key)
        {
            var segments = key.Split(':');
            if (segments.Length < 2 || !Sections.Value.Contains(segments[1]))
            {
                return false;
            }

            var rest = segments.Skip(2).ToList();
            if (segments[1] == "Clients")
            {
                if (rest.Count == 0 || rest[0] == "…")
                {
                    return true;
                }

                rest = rest.Skip(1).ToList();
            }

            return Sections.Value[segments[1]].Any(type => Resolves(type, rest));
        }

        private static bool Resolves(Type type, List<string> rest)
        {
            foreach (var segment in rest)
            {
                if (segment is "*" or "…")
                {
                    return true;
                }

                if (ElementType(type) is { } element)
                {
                    type = element;
                    continue;
                }

                if (type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance) is not { } property)
                {
                    return false;
                }

                type = property.PropertyType;
            }

            return true;
        }

        public static IEnumerable<string> Leaves() =>
            Sections.Value.SelectMany(section => section.SelectMany(type => Leaves(section.Key == "Clients" ? "Anchor:Clients:<id>" : $"Anchor:{section.Key}", type)));

        private static IEnumerable<string> Leaves(string prefix, Type type)
        {
            foreach (var property in Settable(type))
            {
                var key = $"{prefix}:{property.Name}";
                var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (IsSection(propertyType))
                {
                    foreach (var leaf in Leaves(key, propertyType))
                    {
                        yield return leaf;
                    }
                }
                else
                {
                    yield return key;
                }
            }
        }

        private static bool IsSection(Type type) =>
            type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Anchor.Orleans", StringComparison.Ordinal) == true;

        private static Type? ElementType(Type type) =>
            type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type)
                ? null
                : type.IsArray ? type.GetElementType() : type.GetGenericArguments().LastOrDefault();

        private static IEnumerable<PropertyInfo> Settable(Type type) =>
            type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);
    }
}
