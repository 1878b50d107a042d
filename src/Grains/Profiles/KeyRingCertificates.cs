using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Anchor.Orleans.Grains.Hosting;

namespace Anchor.Orleans.Grains.Profiles;

/// <summary>
/// The key ring's certificates, read from their mounted files once, when the host is built (Data Protection takes
/// certificates as objects at registration). What could not be read is kept as one line per problem for start-up
/// validation, which refuses to start with it.
/// </summary>
public sealed class KeyRingCertificates
{
    private const string Section = $"{OptionsRegistration.Root}:{KeyRingOptions.SectionName}";

    private KeyRingCertificates(bool configured, X509Certificate2? current, IReadOnlyList<X509Certificate2> previous, IReadOnlyList<string> problems)
    {
        Configured = configured;
        Current = current;
        Previous = previous;
        Problems = problems;
    }

    /// <summary>Whether a current certificate is configured (it may still have failed to load: see <see cref="Problems"/>).</summary>
    public bool Configured { get; }

    /// <summary>The certificate new keys are encrypted to; null when none is configured or it could not be read.</summary>
    public X509Certificate2? Current { get; }

    /// <summary>Earlier certificates, for decrypting keys written before a rotation.</summary>
    public IReadOnlyList<X509Certificate2> Previous { get; }

    /// <summary>One line per certificate that could not be used, naming its key; empty when all loaded.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Every certificate that may decrypt keys: the current one first.</summary>
    public IEnumerable<X509Certificate2> All => Current is null ? Previous : [Current, .. Previous];

    public static KeyRingCertificates Load(KeyRingOptions options)
    {
        var problems = new List<string>();
        X509Certificate2? current = null;
        if (options.CurrentFiles() is { } files)
        {
            current = TryRead(files, $"{Section}:KeyCertificatePath", $"{Section}:KeyCertificateKeyPath", $"{Section}:KeyCertificatePasswordPath", problems);
        }
        else if (options.PreviousKeyCertificates.Count > 0)
        {
            problems.Add($"{Section}:PreviousKeyCertificates is set but {Section}:KeyCertificatePath is not: new keys would be stored unencrypted. Set the current certificate too.");
        }

        var previous = new List<X509Certificate2>();
        for (var i = 0; i < options.PreviousKeyCertificates.Count; i++)
        {
            var prefix = $"{Section}:PreviousKeyCertificates:{i}";
            if (TryRead(options.PreviousKeyCertificates[i], $"{prefix}:Path", $"{prefix}:KeyPath", $"{prefix}:PasswordPath", problems) is { } certificate)
            {
                previous.Add(certificate);
            }
        }

        return new KeyRingCertificates(options.CurrentFiles() is not null, current, previous, problems);
    }

    private static X509Certificate2? TryRead(KeyCertificateFiles files, string pathKey, string keyPathKey, string passwordPathKey, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(files.Path))
        {
            problems.Add($"{pathKey} is empty: give the path of a mounted certificate file.");
            return null;
        }

        foreach (var (key, path) in new[] { (pathKey, files.Path), (keyPathKey, files.KeyPath), (passwordPathKey, files.PasswordPath) })
        {
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                problems.Add($"{key} names '{path}', which does not exist: mount the secret that holds it (see docs/runbooks/key-ring-rotation.md).");
                return null;
            }
        }

        X509Certificate2 certificate;
        try
        {
            certificate = Read(files);
        }
        catch (CryptographicException)
        {
            // The exception's text is not shown: it adds nothing an operator can act on, and must never carry a password.
            problems.Add($"{pathKey} ('{files.Path}') could not be read: it must be a PKCS#12 file (.pfx, .p12) or a PEM certificate with its private key (in the file or in {keyPathKey}), and {passwordPathKey} must hold its password if it has one.");
            return null;
        }
        catch (IOException)
        {
            problems.Add($"{pathKey} ('{files.Path}') or its key or password file could not be read.");
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            problems.Add($"{pathKey} ('{files.Path}') or its key or password file is not readable by this process.");
            return null;
        }

        using var rsa = certificate.GetRSAPrivateKey();
        if (rsa is null)
        {
            problems.Add($"{pathKey} ('{files.Path}') has no RSA private key: Data Protection encrypts the key ring to an RSA certificate and needs its private key to read it back.");
            certificate.Dispose();
            return null;
        }

        return certificate;
    }

    private static X509Certificate2 Read(KeyCertificateFiles files)
    {
        var path = files.Path!;
        // A mounted secret file usually ends with a newline that is not part of the password.
        var password = string.IsNullOrWhiteSpace(files.PasswordPath) ? null : File.ReadAllText(files.PasswordPath).TrimEnd('\r', '\n');
        var keyPath = string.IsNullOrWhiteSpace(files.KeyPath) ? null : files.KeyPath;
        var extension = Path.GetExtension(path);
        if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
        }

        return password is null ? X509Certificate2.CreateFromPemFile(path, keyPath) : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
    }
}
