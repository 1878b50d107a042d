using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Anchor.Orleans.Testing;

/// <summary>
/// Key-ring certificates made at test time (never a committed key): self-signed RSA, written to a folder of this test
/// process that is deleted when it exits.
/// </summary>
public static class TestCertificates
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("anchor-test-keyring-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Left in the temporary folder: test certificates protect nothing.
            }
        };
        return folder;
    });

    private static readonly Lazy<string> Shared = new(() => WritePfx(Create("anchor-test-keyring")));

    /// <summary>A PKCS#12 file without a password that every production-like test host of this process shares.</summary>
    public static string SharedKeyRingPath => Shared.Value;

    /// <summary>A new self-signed RSA certificate with its private key.</summary>
    public static X509Certificate2 Create(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    }

    /// <summary>Writes <paramref name="certificate"/> with its key as PKCS#12 (with <paramref name="password"/> when given); returns the path.</summary>
    public static string WritePfx(X509Certificate2 certificate, string? password = null)
    {
        var path = NewPath(".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    /// <summary>Writes <paramref name="certificate"/> as a PEM certificate and a separate PEM key, as a Kubernetes TLS Secret holds them.</summary>
    public static (string Certificate, string Key) WritePem(X509Certificate2 certificate)
    {
        var (cert, key) = (NewPath(".crt"), NewPath(".key"));
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        using var rsa = certificate.GetRSAPrivateKey() ?? throw new InvalidOperationException("The certificate has no RSA key.");
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        return (cert, key);
    }

    /// <summary>Writes <paramref name="text"/> to a new file of this process (a password file, a broken certificate).</summary>
    public static string WriteFile(string text, string extension = ".txt")
    {
        var path = NewPath(extension);
        File.WriteAllText(path, text);
        return path;
    }

    private static string NewPath(string extension) => Path.Combine(Folder.Value, $"{Guid.NewGuid():N}{extension}");
}
