using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Browser.Egress;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Operations;
using Anchor.Orleans.Grains.Sessions.Load;
using Anchor.Orleans.Grains.Sessions.Moves;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Grains.Sessions;

public static class SessionsRegistration
{
    /// <summary>The per-silo parts of browser sessions: the engine, URL policy and egress proxy, local session set, its load and the sweeper.</summary>
    public static IServiceCollection AddAnchorSessions(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<OperationsCollector>();
        services.AddHostedService(sp => sp.GetRequiredService<OperationsCollector>());
        services.AddSingleton<AnchorMetrics>();
        services.AddSingleton<BrowserCircuit>();
        services.AddSingleton<BrowserEngine>();
        services.AddSingleton<EgressResolver>();
        services.AddSingleton<UrlPolicy>();
        services.AddSingleton<EgressDialer>();
        services.AddSingleton<EgressProxy>();
        services.AddSingleton<LocalSessions>();
        services.AddSingleton<SessionServices>();
        services.AddSingleton<ISystemFiles, SystemFiles>();
        services.AddSingleton<SiloLoadSampler>();
        services.AddSingleton<SiloLoads>();
        services.AddHostedService(sp => sp.GetRequiredService<SiloLoads>());
        services.AddPlacementDirector<SessionPlacement, SessionPlacementDirector>();
        services.AddSingleton<SessionCloser>();
        services.AddHostedService<SessionSweeper>();
        services.AddAnchorOptions<ShutdownOptions>(ShutdownOptions.SectionName);
        services.AddSingleton<SessionDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionDrain>());
        return services;
    }
}
