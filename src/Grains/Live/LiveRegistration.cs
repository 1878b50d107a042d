using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Grains.Live;

public static class LiveRegistration
{
    /// <summary>The per-silo parts of live views (the link and session-links grains need nothing registered).</summary>
    public static IServiceCollection AddAnchorLiveGrains(this IServiceCollection services) =>
        services.AddSingleton<LiveMetrics>();
}
