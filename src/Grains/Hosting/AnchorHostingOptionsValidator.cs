using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Hosting;

/// <summary>Cross-field and per-environment rules: Staging and Production run on Redis only.</summary>
public sealed class AnchorHostingOptionsValidator(IHostEnvironment environment) : IValidateOptions<AnchorHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, AnchorHostingOptions options)
    {
        var failures = new List<string>();
        if (!environment.IsDevelopment())
        {
            if (options.Clustering.Provider != ClusteringProvider.Redis)
            {
                failures.Add($"Anchor:Clustering:Provider must be Redis in {environment.EnvironmentName} (got '{options.Clustering.Provider}'): localhost clustering is for one development process.");
            }

            if (options.Storage.Provider != StorageProvider.Redis)
            {
                failures.Add($"Anchor:Storage:Provider must be Redis in {environment.EnvironmentName} (got '{options.Storage.Provider}'): in-memory state loses budgets and the emergency switch on restart.");
            }
        }

        if (options.UsesRedis)
        {
            if (string.IsNullOrWhiteSpace(options.Redis.ConnectionString))
            {
                failures.Add("Anchor:Redis:ConnectionString is required when Clustering or Storage uses Redis.");
            }
            else if (!RedisConnectionStrings.TryParse(options.Redis.ConnectionString, out _))
            {
                // The string may carry a password: say that it is malformed, never echo it.
                failures.Add("Anchor:Redis:ConnectionString is not a valid StackExchange.Redis connection string.");
            }
        }

        if (options.Cluster.SiloPort == options.Cluster.GatewayPort)
        {
            failures.Add($"Anchor:Cluster:SiloPort and Anchor:Cluster:GatewayPort must differ (both {options.Cluster.SiloPort}).");
        }

        if (!string.IsNullOrEmpty(options.Cluster.AdvertisedIPAddress) && !IPAddress.TryParse(options.Cluster.AdvertisedIPAddress, out _))
        {
            failures.Add($"Anchor:Cluster:AdvertisedIPAddress must be an IP address (got '{options.Cluster.AdvertisedIPAddress}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
