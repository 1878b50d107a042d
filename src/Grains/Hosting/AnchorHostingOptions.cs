using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Hosting;

/// <summary>Where the cluster keeps its membership table.</summary>
public enum ClusteringProvider
{
    /// <summary>One process, no shared table: the laptop default.</summary>
    Localhost,

    /// <summary>Membership in Redis: many silos.</summary>
    Redis,
}

/// <summary>Where grain state (ledgers, the emergency switch) is persisted.</summary>
public enum StorageProvider
{
    /// <summary>In process memory: lost on restart, for development only.</summary>
    Memory,

    /// <summary>Redis: survives silo crashes and restarts.</summary>
    Redis,
}

/// <summary>How this silo joins a cluster and stores state: the <c>Anchor</c> root keys Clustering, Storage, Redis and Cluster.</summary>
public sealed class AnchorHostingOptions
{
    [ValidateNested]
    public ClusteringSection Clustering { get; set; } = new();

    [ValidateNested]
    public StorageSection Storage { get; set; } = new();

    public RedisSection Redis { get; set; } = new();

    [ValidateNested]
    public ClusterSection Cluster { get; set; } = new();

    public bool UsesRedis => Clustering.Provider == ClusteringProvider.Redis || Storage.Provider == StorageProvider.Redis;

    public sealed class ClusteringSection
    {
        [EnumDataType(typeof(ClusteringProvider))]
        public ClusteringProvider Provider { get; set; } = ClusteringProvider.Localhost;
    }

    public sealed class StorageSection
    {
        [EnumDataType(typeof(StorageProvider))]
        public StorageProvider Provider { get; set; } = StorageProvider.Memory;
    }

    /// <summary>The StackExchange.Redis connection string. It may hold a password: never logged, never echoed in errors.</summary>
    public sealed class RedisSection
    {
        public string ConnectionString { get; set; } = "";
    }

    public sealed class ClusterSection
    {
        [Range(1, 65535)]
        public int SiloPort { get; set; } = 11111;

        [Range(1, 65535)]
        public int GatewayPort { get; set; } = 30000;

        [Required(AllowEmptyStrings = false), RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
        public string ClusterId { get; set; } = "anchor";

        [Required(AllowEmptyStrings = false), RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
        public string ServiceId { get; set; } = "anchor-orleans";

        /// <summary>The address other silos reach this one at; defaults to <c>POD_IP</c> on Kubernetes, else loopback.</summary>
        public string? AdvertisedIPAddress { get; set; }
    }
}
