using System.Globalization;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Grains.Sessions;
using YamlDotNet.RepresentationModel;
using static Anchor.Orleans.Deploy.Tests.Manifests;

namespace Anchor.Orleans.Deploy.Tests;

/// <summary>The Kubernetes contract: what the manifests promise matches what the app does.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly IReadOnlyList<(string File, YamlMappingNode Node)> All = Objects("deploy/k8s");

    private static YamlMappingNode Single(string kind, string? name = null) =>
        All.Single(o => Str(o.Node, "kind") == kind && (name is null || Str(o.Node, "metadata", "name") == name)).Node;

    private static YamlMappingNode Container() =>
        (YamlMappingNode)((YamlSequenceNode)Node(Single("Deployment", "anchor"), "spec", "template", "spec", "containers")!).Children[0];

    private static IEnumerable<YamlMappingNode> Env() =>
        ((YamlSequenceNode)Node(Container(), "env")!).Children.Cast<YamlMappingNode>();

    [Fact]
    public void EveryObject_HasApiVersionKindAndName()
    {
        Assert.NotEmpty(All);
        Assert.All(All, o =>
        {
            Assert.False(string.IsNullOrEmpty(Str(o.Node, "apiVersion")), o.File);
            Assert.False(string.IsNullOrEmpty(Str(o.Node, "metadata", "name")), o.File);
        });
    }

    [Fact]
    public void Base_HasEveryKindTheDeploymentNeeds()
    {
        var kinds = Objects("deploy/k8s/base").Select(o => Str(o.Node, "kind")).ToHashSet();

        foreach (var kind in new[] { "Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress" })
        {
            Assert.Contains(kind, kinds);
        }

        Assert.Contains(Objects("deploy/k8s/components"), o => Str(o.Node, "kind") == "StatefulSet");
    }

    [Fact]
    public void ServiceAndIngress_BalanceWithoutAffinity()
    {
        var services = All.Where(o => Str(o.Node, "kind") == "Service" && Str(o.Node, "metadata", "name") == "anchor").ToList();
        var ingresses = All.Where(o => Str(o.Node, "kind") == "Ingress").ToList();

        Assert.Single(services);
        Assert.Equal("None", Str(services[0].Node, "spec", "sessionAffinity"));
        Assert.NotEmpty(ingresses);
        Assert.All(ingresses, o =>
        {
            Assert.Null(Str(o.Node, "metadata", "annotations", "nginx.ingress.kubernetes.io/affinity"));
            Assert.Equal("off", Str(o.Node, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-buffering"));
        });
    }

    [Fact]
    public void Probes_UseTheAppsHealthPaths()
    {
        var container = Container();

        Assert.Equal("/health/ready", Str(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/health/live", Str(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/health/live", Str(container, "startupProbe", "httpGet", "path"));
    }

    [Fact]
    public void Deployment_PassesTheDownwardApiVariablesOrleansNeeds()
    {
        var env = Env().ToDictionary(e => Str(e, "name")!, e => e);

        Assert.Equal("metadata.name", Str(env["POD_NAME"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", Str(env["POD_NAMESPACE"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("status.podIP", Str(env["POD_IP"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['orleans/serviceId']", Str(env["ORLEANS_SERVICE_ID"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['orleans/clusterId']", Str(env["ORLEANS_CLUSTER_ID"], "valueFrom", "fieldRef", "fieldPath"));
        var ports = ((YamlSequenceNode)Node(Container(), "ports")!).Children.Select(p => Str(p, "containerPort")).ToHashSet();
        Assert.Equal(["11111", "30000", "8080"], ports.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void GracePeriod_ExceedsTheDrainTime()
    {
        var grace = int.Parse(Str(Single("Deployment", "anchor"), "spec", "template", "spec", "terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture);
        var drain = int.Parse(Str(Single("ConfigMap", "anchor-config"), "data", "Anchor__Shutdown__DrainSeconds") ?? new ShutdownOptions().DrainSeconds.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

        Assert.True(grace > drain + 15, $"terminationGracePeriodSeconds {grace} must exceed Shutdown:DrainSeconds {drain} plus time to close sessions and leave the cluster");
    }

    [Fact]
    public void Resources_SetCpuRequestWithoutLimit_AndAMemoryLimit()
    {
        var resources = Node(Container(), "resources")!;

        Assert.NotNull(Str(resources, "requests", "cpu"));
        Assert.NotNull(Str(resources, "requests", "memory"));
        Assert.NotNull(Str(resources, "limits", "memory"));
        Assert.Null(Str(resources, "limits", "cpu"));
    }

    [Fact]
    public void RollingUpdate_NeverTakesASiloAwayFirst()
    {
        Assert.Equal("RollingUpdate", Str(Single("Deployment", "anchor"), "spec", "strategy", "type"));
        Assert.Equal("0", Str(Single("Deployment", "anchor"), "spec", "strategy", "rollingUpdate", "maxUnavailable"));
    }

    [Fact]
    public void Secrets_HoldOnlyPlaceholders()
    {
        var secrets = All.Where(o => Str(o.Node, "kind") == "Secret").ToList();

        Assert.NotEmpty(secrets);
        foreach (var (file, secret) in secrets)
        {
            foreach (var section in new[] { "stringData", "data" })
            {
                if (Node(secret, section) is YamlMappingNode values)
                {
                    Assert.All(values.Children, kv => Assert.Contains("REPLACE_ME", ((YamlScalarNode)kv.Value).Value, StringComparison.Ordinal));
                }
            }

            // An example is never applied: its placeholders would stop every pod at start-up.
            var kustomization = Documents("deploy/k8s/base").Single(d => d.File.EndsWith("kustomization.yaml", StringComparison.Ordinal)).Node;
            var resources = ((YamlSequenceNode)Node(kustomization, "resources")!).Children.Select(c => ((YamlScalarNode)c).Value);
            Assert.DoesNotContain(Path.GetFileName(file), resources);
        }
    }

    [Fact]
    public void KeyRingCertificate_IsMountedReadOnlyFromATlsSecret_AtThePathsTheConfigMapGivesTheSilo()
    {
        var data = Node(Single("ConfigMap", "anchor-config"), "data")!;
        var certificate = Str(data, $"Anchor__{KeyRingOptions.SectionName}__{nameof(KeyRingOptions.KeyCertificatePath)}");
        var key = Str(data, $"Anchor__{KeyRingOptions.SectionName}__{nameof(KeyRingOptions.KeyCertificateKeyPath)}");
        var mounts = ((YamlSequenceNode)Node(Container(), "volumeMounts")!).Children.Cast<YamlMappingNode>().ToList();
        var volumes = ((YamlSequenceNode)Node(Single("Deployment", "anchor"), "spec", "template", "spec", "volumes")!).Children.Cast<YamlMappingNode>().ToList();

        Assert.Equal(("/etc/anchor/keyring/tls.crt", "/etc/anchor/keyring/tls.key"), (certificate, key));
        var mount = Assert.Single(mounts, m => Str(m, "name") == "keyring");
        Assert.Equal(("/etc/anchor/keyring", "true"), (Str(mount, "mountPath"), Str(mount, "readOnly")));
        var volume = Assert.Single(volumes, v => Str(v, "name") == "keyring");
        // Required: Kubernetes does not start a pod whose Secret is missing, and the silo would refuse to anyway.
        Assert.Equal(("anchor-keyring", null), (Str(volume, "secret", "secretName"), Str(volume, "secret", "optional")));

        // The example Secret has the shape `kubectl create secret tls` makes: the two files the paths name.
        var example = All.Single(o => Str(o.Node, "kind") == "Secret" && Str(o.Node, "metadata", "name") == "anchor-keyring").Node;
        Assert.Equal("kubernetes.io/tls", Str(example, "type"));
        Assert.Equal(["tls.crt", "tls.key"], ((YamlMappingNode)Node(example, "stringData")!).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order(StringComparer.Ordinal));

        // A rotation's previous certificate: optional (pods start without it), read-only, named only while rotating.
        var previousMount = Assert.Single(mounts, m => Str(m, "name") == "keyring-previous");
        var previousVolume = Assert.Single(volumes, v => Str(v, "name") == "keyring-previous");
        Assert.Equal(("/etc/anchor/keyring-previous", "true"), (Str(previousMount, "mountPath"), Str(previousMount, "readOnly")));
        Assert.Equal(("anchor-keyring-previous", "true"), (Str(previousVolume, "secret", "secretName"), Str(previousVolume, "secret", "optional")));
        Assert.Null(Str(data, $"Anchor__{KeyRingOptions.SectionName}__{nameof(KeyRingOptions.PreviousKeyCertificates)}__0__Path"));
        Assert.Contains(
            $"  # Anchor__{KeyRingOptions.SectionName}__{nameof(KeyRingOptions.PreviousKeyCertificates)}__0__{nameof(KeyCertificateFiles.Path)}: \"/etc/anchor/keyring-previous/tls.crt\"\n",
            File.ReadAllText(PathOf("deploy/k8s/base/configmap.yaml")),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Silo_RunsOnAReadOnlyRoot_WritingOnlyToEmptyDirsOnTmpAndHome()
    {
        var container = Container();
        var mounts = ((YamlSequenceNode)Node(container, "volumeMounts")!).Children.Cast<YamlMappingNode>().ToDictionary(m => Str(m, "name")!, m => Str(m, "mountPath"));
        var volumes = ((YamlSequenceNode)Node(Single("Deployment", "anchor"), "spec", "template", "spec", "volumes")!).Children.Cast<YamlMappingNode>().ToDictionary(v => Str(v, "name")!);

        Assert.Equal(("true", "false", "true"), (Str(container, "securityContext", "readOnlyRootFilesystem"), Str(container, "securityContext", "allowPrivilegeEscalation"), Str(container, "securityContext", "runAsNonRoot")));
        Assert.Equal(("/tmp", "/home/anchor"), (mounts["tmp"], mounts["home"]));
        Assert.NotNull(Node(volumes["tmp"], "emptyDir", "sizeLimit"));
        Assert.NotNull(Node(volumes["home"], "emptyDir", "sizeLimit"));
    }

    [Fact]
    public void Role_GrantsOnlyWhatOrleansKubernetesHostingUses()
    {
        var rules = (YamlSequenceNode)Node(Single("Role"), "rules")!;

        var rule = Assert.Single(rules.Children);
        Assert.Equal(["pods"], ((YamlSequenceNode)Node(rule, "resources")!).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal(["get", "list", "patch", "watch"], ((YamlSequenceNode)Node(rule, "verbs")!).Children.Select(c => ((YamlScalarNode)c).Value!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Autoscaler_UsesCpuAndActiveSessions()
    {
        var metrics = ((YamlSequenceNode)Node(Single("HorizontalPodAutoscaler"), "spec", "metrics")!).Children;

        Assert.Contains(metrics, m => Str(m, "resource", "name") == "cpu");
        Assert.Contains(metrics, m => Str(m, "pods", "metric", "name") == "anchor_sessions_active");
    }

    [Fact]
    public void RedisForDevClusters_KeepsAnAppendOnlyFile()
    {
        var redis = Objects("deploy/k8s/components").Single(o => Str(o.Node, "kind") == "StatefulSet").Node;
        var container = (YamlMappingNode)((YamlSequenceNode)Node(redis, "spec", "template", "spec", "containers")!).Children[0];
        var words = new[] { "command", "args" }
            .Select(k => Node(container, k))
            .OfType<YamlSequenceNode>()
            .SelectMany(seq => seq.Children.Select(c => ((YamlScalarNode)c).Value));
        var command = string.Join(' ', words);

        Assert.Contains("--appendonly yes", command, StringComparison.Ordinal);
    }

    [Fact]
    public void ProductionOverlay_DoesNotShipTheDevRedis()
    {
        var production = File.ReadAllText(PathOf("deploy/k8s/overlays/production/kustomization.yaml"));
        var staging = File.ReadAllText(PathOf("deploy/k8s/overlays/staging/kustomization.yaml"));

        Assert.DoesNotContain(production.Split('\n').Where(l => !l.TrimStart().StartsWith('#')), l => l.Contains("redis-dev", StringComparison.Ordinal));
        Assert.Contains("components/redis-dev", staging, StringComparison.Ordinal);
    }
}
