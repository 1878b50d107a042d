using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Grains.Timeline;

public static class TimelineRegistration
{
    /// <summary>
    /// Session timelines: in Redis when grain storage is Redis (shared by every silo), in memory otherwise; written through
    /// one queue per silo. Registered before the silo so the queue stops after it and keeps the events of a drain.
    /// </summary>
    public static IServiceCollection AddAnchorTimeline(this IServiceCollection services, AnchorHostingOptions hosting)
    {
        if (hosting.Storage.Provider == StorageProvider.Redis && RedisConnectionStrings.TryParse(hosting.Redis.ConnectionString, out _))
        {
            services.AddSingleton<RedisSessionTimeline>();
            services.AddSingleton(sp => Queued(sp, sp.GetRequiredService<RedisSessionTimeline>()));
        }
        else
        {
            services.AddSingleton<MemorySessionTimeline>();
            services.AddSingleton(sp => Queued(sp, sp.GetRequiredService<MemorySessionTimeline>()));
        }

        services.AddSingleton<ISessionTimeline>(sp => sp.GetRequiredService<QueuedSessionTimeline>());
        services.AddHostedService(sp => sp.GetRequiredService<QueuedSessionTimeline>());
        return services;
    }

    private static QueuedSessionTimeline Queued(IServiceProvider services, ISessionTimeline store) =>
        ActivatorUtilities.CreateInstance<QueuedSessionTimeline>(services, store);
}
