using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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
        services.AddOptions<KeyManagementOptions>().Configure<IConfiguration, RedisConnection>((keys, configuration, redis) =>
        {
            // Read from configuration, not the validated options: Data Protection starts its key ring before the
            // start-up validation reports every configuration error together, and must not report only some of them.
            var provider = configuration[$"{OptionsRegistration.Root}:Storage:Provider"];
            if (string.Equals(provider, nameof(StorageProvider.Redis), StringComparison.OrdinalIgnoreCase))
            {
                // The key ring is read synchronously by Data Protection; the connection is shared with the silo.
                keys.XmlRepository = new RedisXmlRepository(() => redis.GetAsync().GetAwaiter().GetResult().GetDatabase(), KeyRingKey);
            }
        });
        return services;
    }
}
