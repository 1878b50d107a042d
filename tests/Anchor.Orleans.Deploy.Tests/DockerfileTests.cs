using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Browser;
using static Anchor.Orleans.Deploy.Tests.Manifests;

namespace Anchor.Orleans.Deploy.Tests;

/// <summary>
/// No Docker engine runs here, so the image is checked by reading its recipe: the build stage publishes the silo,
/// the runtime stage is the last one, has Chromium where the app looks for it, and runs unprivileged.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string[] Lines = File.ReadAllLines(PathOf("Dockerfile"))
        .Where(l => !l.TrimStart().StartsWith('#'))
        .ToArray();

    private static readonly string Text = string.Join('\n', Lines);

    /// <summary>Stage names in order, and the instructions of each.</summary>
    private static List<(string Name, string Body)> Stages()
    {
        var stages = new List<(string Name, string Body)>();
        foreach (var line in Lines)
        {
            var from = FromLine().Match(line);
            if (from.Success)
            {
                stages.Add((from.Groups["name"].Value, ""));
            }
            else if (stages.Count > 0)
            {
                stages[^1] = (stages[^1].Name, stages[^1].Body + line + "\n");
            }
        }

        return stages;
    }

    [Fact]
    public void BuildStage_PublishesTheSiloProject()
    {
        var build = Stages().Single(s => s.Name == "build").Body;

        Assert.Contains("dotnet publish src/Silo/Anchor.Orleans.Silo.csproj", build, StringComparison.Ordinal);
        Assert.True(File.Exists(PathOf("src/Silo/Anchor.Orleans.Silo.csproj")));
        Assert.Contains("--configuration Release", build, StringComparison.Ordinal);
    }

    [Fact]
    public void RuntimeStage_IsLast_AndHasChromiumWhereTheAppLooks()
    {
        var stages = Stages();
        var runtime = stages[^1];
        var defaultPath = new BrowserOptions().ExecutablePath;

        Assert.Equal("runtime", runtime.Name);
        Assert.Matches(@"apt-get install[^\n]*(\n[^\n]*\\?)*chromium", runtime.Body);
        Assert.Contains($"test -x {defaultPath}", runtime.Body, StringComparison.Ordinal);
        Assert.Contains($"Anchor__Browser__ExecutablePath={defaultPath}", runtime.Body, StringComparison.Ordinal);
        Assert.Contains("fonts-liberation", runtime.Body, StringComparison.Ordinal);
        Assert.Contains("COPY --from=app /app", runtime.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Runtime_ListensOnAllInterfaces_RunsUnprivileged_AndStartsTheSilo()
    {
        var runtime = Stages()[^1].Body;

        Assert.Contains("ASPNETCORE_URLS=http://0.0.0.0:8080", runtime, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^USER \$\{APP_UID\}|^USER [1-9][0-9]*", runtime);
        Assert.DoesNotMatch(@"(?m)^USER (root|0)\b", runtime);
        Assert.Matches(@"(?m)^EXPOSE 8080 11111 30000$", runtime);
        Assert.Matches(@"(?m)^ENTRYPOINT \[.*""dotnet"", ""Anchor\.Orleans\.Silo\.dll""\]$", runtime);
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputAndSecretsOut()
    {
        var ignore = File.ReadAllLines(PathOf(".dockerignore"));

        Assert.Contains(ignore, l => l.Trim().TrimStart('*', '/').StartsWith("bin", StringComparison.Ordinal));
        Assert.Contains(ignore, l => l.Trim().TrimStart('*', '/').StartsWith("obj", StringComparison.Ordinal));
        Assert.Contains(ignore, l => l.Contains(".git", StringComparison.Ordinal));
    }

    [Fact]
    public void BaseImages_AreBuildArguments_DefaultingToTheOfficialImages()
    {
        var stages = Stages();

        Assert.Contains("ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}", Lines);
        Assert.Contains("ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}", Lines);
        Assert.Contains("ARG RUNTIME_IMAGE=debian:${DEBIAN_RELEASE}-slim", Lines);
        Assert.Equal(["build", "app-build", "app-prebuilt", "app", "dotnet", "runtime"], stages.Select(s => s.Name));
        Assert.Contains("FROM --platform=$BUILDPLATFORM ${SDK_IMAGE} AS build", Lines);
        Assert.Contains("FROM ${ASPNET_IMAGE} AS dotnet", Lines);
        Assert.Contains("FROM ${RUNTIME_IMAGE} AS runtime", Lines);
    }

    [Fact]
    public void App_ComesFromTheBuildStage_OrFromTheHostsPublishDirectory()
    {
        var stages = Stages();

        Assert.Contains("ARG APP_SOURCE=build", Lines);
        // buildah picks the stages to build from --build-arg values only: without the fallback it skips app-build.
        Assert.Contains("FROM app-${APP_SOURCE:-build} AS app", Lines);
        Assert.Contains("FROM scratch AS app-build", Lines);
        Assert.Equal("COPY --from=build /app /app", stages.Single(s => s.Name == "app-build").Body.Trim());
        Assert.Contains("FROM scratch AS app-prebuilt", Lines);
        Assert.Equal("COPY artifacts/publish/ /app/", stages.Single(s => s.Name == "app-prebuilt").Body.Trim());
    }

    [Fact]
    public void PrebuiltMode_PublishesOnTheHostLikeTheBuildStage()
    {
        var build = Stages().Single(s => s.Name == "build").Body;
        var image = File.ReadAllText(PathOf("scripts/image.sh"));

        foreach (var property in new[] { "--configuration Release", "-p:UseAppHost=false", "-p:PlaywrightPlatform=" })
        {
            Assert.Contains(property, build, StringComparison.Ordinal);
            Assert.Contains(property, image, StringComparison.Ordinal);
        }

        Assert.Contains("chmod 0755 /app/.playwright/node/*/node", build, StringComparison.Ordinal);
        Assert.Contains("chmod 0755 \"$out\"/.playwright/node/*/node", image, StringComparison.Ordinal);
        Assert.Contains("local out=artifacts/publish", image, StringComparison.Ordinal);
        Assert.Contains("--build-arg APP_SOURCE=prebuilt", image, StringComparison.Ordinal);
        Assert.Contains("prebuilt=${ANCHOR_IMAGE_PREBUILT:-1}", File.ReadAllText(PathOf("scripts/deploy-test.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public void DockerIgnore_LetsOnlyThePublishDirectoryOfArtifactsIn()
    {
        var ignore = File.ReadAllLines(PathOf(".dockerignore")).Select(l => l.Trim()).ToList();

        var excluded = ignore.IndexOf("/artifacts/");
        var allowed = ignore.IndexOf("!/artifacts/publish/");
        Assert.True(excluded >= 0, "artifacts/ is excluded");
        Assert.True(allowed > excluded, "artifacts/publish/ is allowed after artifacts/ is excluded");
    }

    [GeneratedRegex(@"^FROM\s+(--platform=\S+\s+)?\S+\s+AS\s+(?<name>\S+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex FromLine();
}
