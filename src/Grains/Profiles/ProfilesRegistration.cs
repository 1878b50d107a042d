using System.Security.Cryptography;
using System.Xml.Linq;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Profiles;

public static class ProfilesRegistration
{
    /// <summary>Redis key of the Data Protection key ring that seals saved profiles (cluster mode).</summary>
    public const string KeyRingKey = "anchor:data-protection-keys";

    /// <summary>
    /// Saved profiles: their bounds and the Data Protection keys that seal them — in Redis when the silo stores grain
    /// state there, so every silo unseals what any silo sealed; the framework's default key store otherwise. The keys
    /// are encrypted at rest to a certificate mounted from a secret (<see cref="KeyRingOptions"/>), required outside
    /// Development.
    /// </summary>
    public static IServiceCollection AddAnchorProfiles(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAnchorOptions<ProfilesOptions>(ProfilesOptions.SectionName);
        services.AddAnchorOptions<KeyRingOptions>(KeyRingOptions.SectionName);
        services.AddSingleton<IValidateOptions<KeyRingOptions>, KeyRingOptionsValidator>();

        // Read when the host is built: Data Protection takes certificates as objects. Problems are reported by start-up
        // validation (KeyRingOptionsValidator) with every other configuration error.
        var keyRingOptions = configuration.GetSection($"{OptionsRegistration.Root}:{KeyRingOptions.SectionName}").Get<KeyRingOptions>() ?? new();
        var certificates = KeyRingCertificates.Load(keyRingOptions);
        services.AddSingleton(certificates);

        var dataProtection = services.AddDataProtection().SetApplicationName("Anchor.Orleans");
        if (certificates.Current is { } current)
        {
            // New keys are encrypted to the current certificate; keys of earlier ones stay readable until re-encrypted.
            dataProtection.ProtectKeysWithCertificate(current);
            dataProtection.UnprotectKeysWithAnyCertificate([.. certificates.Previous]);
        }
        else if (certificates.Configured)
        {
            // Configured but unreadable: start-up is refused; until then no key may be written in the clear.
            services.Configure<KeyManagementOptions>(keys => keys.XmlEncryptor = new RefusingXmlEncryptor());
        }

        services.AddOptions<KeyManagementOptions>().Configure<IConfiguration, RedisConnection>((keys, config, redis) =>
        {
            // Read from configuration, not the validated options: Data Protection starts its key ring before the
            // start-up validation reports every configuration error together, and must not report only some of them.
            if (UsesRedis(config))
            {
                // The key ring is read synchronously by Data Protection; the connection is shared with the silo.
                keys.XmlRepository = new RedisXmlRepository(() => redis.GetAsync().GetAwaiter().GetResult().GetDatabase(), KeyRingKey);
            }
        });

        if (UsesRedis(configuration))
        {
            services.AddHostedService<KeyRingMaintenance>();
        }

        return services;
    }

    private static bool UsesRedis(IConfiguration configuration) =>
        string.Equals(configuration[$"{OptionsRegistration.Root}:Storage:Provider"], nameof(StorageProvider.Redis), StringComparison.OrdinalIgnoreCase);

    /// <summary>Stands in for a configured certificate that could not be read: fails instead of storing a key unencrypted.</summary>
    private sealed class RefusingXmlEncryptor : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
            throw new CryptographicException($"The key ring certificate ({KeyRingOptionsValidator.CertificatePathKey}) could not be read; no key is stored unencrypted.");
    }
}
