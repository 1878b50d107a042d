namespace Anchor.Orleans.Grains.Profiles;

/// <summary>
/// The certificates that encrypt the Data Protection key ring at rest (<c>Anchor:DataProtection</c>). The key ring
/// seals saved profiles and sits in the same Redis as they do, so it is encrypted with a key that is not in Redis:
/// required outside Development.
/// </summary>
public sealed class KeyRingOptions
{
    public const string SectionName = "DataProtection";

    /// <summary>
    /// The certificate new keys are encrypted to: a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) or a PEM certificate, with
    /// its RSA private key (in the same file, or in <see cref="KeyCertificateKeyPath"/>). Mounted from a secret.
    /// </summary>
    public string? KeyCertificatePath { get; set; }

    /// <summary>A PEM private key for a PEM <see cref="KeyCertificatePath"/> (a Kubernetes TLS Secret's <c>tls.key</c>).</summary>
    public string? KeyCertificateKeyPath { get; set; }

    /// <summary>A file holding the PKCS#12 password (or an encrypted PEM key's password); none when empty.</summary>
    public string? KeyCertificatePasswordPath { get; set; }

    /// <summary>
    /// Certificates that encrypted keys before a rotation: read only to decrypt those keys, which a silo re-encrypts
    /// to the current certificate at start. Drop one once the start-up log says no key needs it.
    /// </summary>
    public List<KeyCertificateFiles> PreviousKeyCertificates { get; set; } = [];

    /// <summary>The current certificate's files, or null when none is configured (a method: configuration never binds it).</summary>
    public KeyCertificateFiles? CurrentFiles() =>
        string.IsNullOrWhiteSpace(KeyCertificatePath) ? null : new() { Path = KeyCertificatePath, KeyPath = KeyCertificateKeyPath, PasswordPath = KeyCertificatePasswordPath };
}

/// <summary>Where one key-ring certificate is mounted: the certificate, its PEM key if separate, its password file if any.</summary>
public sealed class KeyCertificateFiles
{
    public string? Path { get; set; }

    public string? KeyPath { get; set; }

    public string? PasswordPath { get; set; }
}
