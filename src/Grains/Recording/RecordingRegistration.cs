using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Recording;

public static class RecordingRegistration
{
    /// <summary>Session recordings: the recorder, and the store (Redis when grain state is there, this process's memory otherwise).</summary>
    public static IServiceCollection AddAnchorRecording(this IServiceCollection services)
    {
        services.AddAnchorOptions<RecordingOptions>(RecordingOptions.SectionName);
        services.AddSingleton<IValidateOptions<RecordingOptions>, RecordingOptionsValidator>();
        services.AddSingleton<ISessionTraceStore>(sp =>
            sp.GetRequiredService<IOptions<AnchorHostingOptions>>().Value.Storage.Provider == StorageProvider.Redis
                ? ActivatorUtilities.CreateInstance<RedisSessionRecordings>(sp)
                : ActivatorUtilities.CreateInstance<MemorySessionRecordings>(sp));
        services.AddSingleton<ISessionRecordings>(sp => sp.GetRequiredService<ISessionTraceStore>());
        services.AddSingleton<SessionRecorder>();
        return services;
    }
}
