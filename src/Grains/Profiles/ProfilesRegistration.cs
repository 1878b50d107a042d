using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Profiles;

public static class ProfilesRegistration
{
    /// <summary>Redis key of the Data Protection key ring that seals saved profiles (cluster mode).</summary>
    public const string KeyRingKey = "anchor:data-protection-keys";

    /// <summary>
    /// Saved profiles: their bounds and the Data Protection keys that seal them — in Redis when the silo stores grain
    /// state there, so every silo unseals what any silo sealed; the framework's default key store otherwise.
    /// </summary>
    public static IServiceCollection AddAnchorProfiles(this IServiceCollection services)
    {
        services.AddAnchorOptions<ProfilesOptions>(ProfilesOptions.SectionName);
        services.AddDataProtection().SetApplicationName("Anchor.Orleans");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<AnchorHostingOptions>, RedisConnection>((keys, hosting, redis) =>
        {
            if (hosting.Value.Storage.Provider == StorageProvider.Redis)
            {
                // The key ring is read synchronously by Data Protection; the connection is shared with the silo.
                keys.XmlRepository = new RedisXmlRepository(() => redis.GetAsync().GetAwaiter().GetResult().GetDatabase(), KeyRingKey);
            }
        });
        return services;
    }
}
