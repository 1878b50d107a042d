using YamlDotNet.RepresentationModel;

namespace Anchor.Orleans.Deploy.Tests;

/// <summary>The repository's deployment files, parsed with YamlDotNet.</summary>
public static class Manifests
{
    public static string RepoRoot { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(RepoRoot, relative);

    /// <summary>Every YAML document under <paramref name="folder"/>, with the file it came from.</summary>
    public static IReadOnlyList<(string File, YamlMappingNode Node)> Documents(string folder) =>
        Directory.EnumerateFiles(PathOf(folder), "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(PathOf(folder), "*.yml", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal)
            .SelectMany(file =>
            {
                var stream = new YamlStream();
                using var reader = new StreamReader(file);
                stream.Load(reader);
                return stream.Documents.Where(d => d.RootNode is YamlMappingNode).Select(d => (Path.GetRelativePath(RepoRoot, file), (YamlMappingNode)d.RootNode));
            })
            .ToList();

    /// <summary>Kubernetes objects (documents with apiVersion and kind, not kustomizations).</summary>
    public static IReadOnlyList<(string File, YamlMappingNode Node)> Objects(string folder) =>
        Documents(folder).Where(d => d.Node.Children.ContainsKey("kind") && Str(d.Node, "kind") != "Kustomization").ToList();

    public static string? Str(YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                current = next;
            }
            else if (current is YamlSequenceNode seq && int.TryParse(key, out var index) && index < seq.Children.Count)
            {
                current = seq.Children[index];
            }
            else
            {
                return null;
            }
        }

        return (current as YamlScalarNode)?.Value;
    }

    public static YamlNode? Node(YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                current = next;
            }
            else
            {
                return null;
            }
        }

        return current;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Anchor.Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Anchor.Orleans.sln not found above the test binaries.");
    }
}
