using Anchor.Orleans.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Profiles;

/// <summary>
/// Outside Development the key ring must be encrypted with a certificate that is not in Redis; a configured
/// certificate must be readable in every environment.
/// </summary>
public sealed class KeyRingOptionsValidator(IHostEnvironment environment, KeyRingCertificates certificates) : IValidateOptions<KeyRingOptions>
{
    public const string CertificatePathKey = $"{OptionsRegistration.Root}:{KeyRingOptions.SectionName}:KeyCertificatePath";

    public ValidateOptionsResult Validate(string? name, KeyRingOptions options)
    {
        var failures = new List<string>(certificates.Problems);
        if (!certificates.Configured && !environment.IsDevelopment())
        {
            failures.Add($"{CertificatePathKey} is required in {environment.EnvironmentName}: the Data Protection key ring that seals saved profiles is kept in Redis and must be encrypted with a certificate that is not. Mount a certificate with its RSA private key from a secret (PKCS#12, or PEM with {OptionsRegistration.Root}:{KeyRingOptions.SectionName}:KeyCertificateKeyPath) and set this key to its path; docs/runbooks/key-ring-rotation.md shows how.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
