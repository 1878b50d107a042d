namespace Anchor.Orleans.Api.Health;

/// <summary>
/// How a health check takes part in the probes. Every registered check shows in <c>/health</c>; a check tagged
/// <see cref="Ready"/> also decides <c>/health/ready</c>. <c>/health/live</c> runs no check at all: it proves
/// the process answers and never touches Redis or grains. Features plug their check in with
/// <c>services.AddHealthChecks().AddCheck&lt;T&gt;("name", tags: [HealthTags.Ready])</c>.
/// </summary>
public static class HealthTags
{
    public const string Ready = "ready";
}
