using YamlDotNet.RepresentationModel;
using static Anchor.Orleans.Deploy.Tests.Manifests;

namespace Anchor.Orleans.Deploy.Tests;

/// <summary>
/// deploy/k8s/overlays/podman adapts the manifests only where podman cannot run them, and each index-addressed patch
/// still names the item it was written for. scripts/deploy-test.sh plays the overlay for real.
/// </summary>
public sealed class PodmanOverlayTests
{
    private const string Overlay = "deploy/k8s/overlays/podman";

    private static readonly YamlMappingNode Kustomization =
        Documents(Overlay).Single(d => d.File.EndsWith("kustomization.yaml", StringComparison.Ordinal)).Node;

    private static YamlMappingNode BaseSilo() =>
        Objects("deploy/k8s/base").Single(o => Str(o.Node, "kind") == "Deployment" && Str(o.Node, "metadata", "name") == "anchor").Node;

    /// <summary>The JSON patch operations of the patch that targets <paramref name="kind"/>/<paramref name="name"/>.</summary>
    private static List<YamlMappingNode> Operations(string kind, string name)
    {
        var patch = ((YamlSequenceNode)Kustomization.Children["patches"]).Children
            .Single(p => Str(p, "target", "kind") == kind && Str(p, "target", "name") == name);
        var stream = new YamlStream();
        stream.Load(new StringReader(Str(patch, "patch")!));
        return ((YamlSequenceNode)stream.Documents[0].RootNode).Children.Cast<YamlMappingNode>().ToList();
    }

    private static List<string> Names(YamlNode? sequence) =>
        ((YamlSequenceNode)sequence!).Children.Select(c => Str(c, "name")!).ToList();

    [Fact]
    public void Overlay_PlaysTheProductionEnvironmentWithTheDevRedisAndTheFixture()
    {
        var resources = ((YamlSequenceNode)Kustomization.Children["resources"]).Children.Select(c => ((YamlScalarNode)c).Value);
        var components = ((YamlSequenceNode)Kustomization.Children["components"]).Children.Select(c => ((YamlScalarNode)c).Value);
        var config = Operations("ConfigMap", "anchor-config");

        Assert.Equal(["../../base", "fixture.yaml"], resources);
        Assert.Equal(["../../components/redis-dev"], components);
        Assert.Contains(config, op => Str(op, "path") == "/data/ASPNETCORE_ENVIRONMENT" && Str(op, "value") == "Production");
        Assert.Contains(Operations("Deployment", "anchor"), op => Str(op, "path") == "/spec/replicas" && Str(op, "value") == "2");
    }

    [Fact]
    public void IndexedPatches_NameTheItemTheyChange()
    {
        // Replays the silo patch on the names of the base's env, volumes and mounts: every "test" must hold.
        var container = (YamlMappingNode)((YamlSequenceNode)Node(BaseSilo(), "spec", "template", "spec", "containers")!).Children[0];
        var lists = new Dictionary<string, List<string>>(StringComparer.Ordinal)
        {
            ["/spec/template/spec/containers/0/env"] = Names(Node(container, "env")),
            ["/spec/template/spec/containers/0/volumeMounts"] = Names(Node(container, "volumeMounts")),
            ["/spec/template/spec/volumes"] = Names(Node(BaseSilo(), "spec", "template", "spec", "volumes")),
        };
        var tests = 0;

        foreach (var op in Operations("Deployment", "anchor"))
        {
            var path = Str(op, "path")!;
            var list = lists.Keys.SingleOrDefault(k => path.StartsWith(k + "/", StringComparison.Ordinal));
            if (list is null)
            {
                continue;
            }

            var rest = path[(list.Length + 1)..].Split('/');
            var index = int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture);
            switch (Str(op, "op"))
            {
                case "test":
                    Assert.Equal(["name"], rest[1..]);
                    Assert.Equal(Str(op, "value"), lists[list][index]);
                    tests++;
                    break;
                case "remove":
                    lists[list].RemoveAt(index);
                    break;
                case "replace":
                    Assert.Equal(lists[list][index], Str(op, "value", "name"));
                    break;
            }
        }

        Assert.Equal(7, tests);
        Assert.Equal(["POD_NAME", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID", "Anchor__Cluster__ServiceId", "Anchor__Cluster__ClusterId", "ASPNETCORE_URLS"], lists["/spec/template/spec/containers/0/env"]);
        Assert.Equal(["dshm", "keyring", "tmp", "home"], lists["/spec/template/spec/volumes"]);
    }

    [Fact]
    public void Overlay_KeepsTheSilosSecurityContextResourcesAndStrategy()
    {
        var paths = Operations("Deployment", "anchor").Select(op => Str(op, "path")!).ToList();

        Assert.DoesNotContain(paths, p => p.Contains("securityContext", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.Contains("resources", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.Contains("strategy", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.Contains("terminationGracePeriodSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public void Fixture_RunsUnprivilegedOnAReadOnlyRoot()
    {
        var fixture = Objects(Overlay).Single(o => Str(o.Node, "metadata", "name") == "fixture").Node;
        var container = ((YamlSequenceNode)Node(fixture, "spec", "template", "spec", "containers")!).Children[0];

        Assert.Equal("true", Str(fixture, "spec", "template", "spec", "securityContext", "runAsNonRoot"));
        Assert.Equal(("false", "true"), (Str(container, "securityContext", "allowPrivilegeEscalation"), Str(container, "securityContext", "readOnlyRootFilesystem")));
    }
}
