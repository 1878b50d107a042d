using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Anchor.Orleans.Grains.Profiles;

/// <summary>What one stored key-ring element needed.</summary>
public enum KeyRingEntryState
{
    /// <summary>No secret in it (a revocation), nothing to protect.</summary>
    NoSecret,

    /// <summary>Already encrypted to the current certificate.</summary>
    Current,

    /// <summary>Was encrypted to a previous certificate, now to the current one.</summary>
    Rewrapped,

    /// <summary>Was stored in the clear (before a certificate was configured), now encrypted to the current one.</summary>
    Encrypted,

    /// <summary>Encrypted to a certificate this silo does not have: left as it is, and the keys it holds cannot be used.</summary>
    Unreadable,
}

/// <summary>
/// Re-encrypts one stored Data Protection key element to the current certificate, the way Data Protection itself
/// encrypts it (an <c>encryptedSecret</c> around the certificate encryptor's output), so that a rotated-out
/// certificate, or a ring written before any certificate was configured, leaves nothing readable behind. The key
/// material is unchanged: what it sealed stays readable.
/// </summary>
public static class KeyRingRewrap
{
    private static readonly XNamespace DataProtection = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName EncryptedSecret = DataProtection + "encryptedSecret";
    private static readonly XName RequiresEncryption = DataProtection + "requiresEncryption";
    private static readonly XName DecryptorType = "decryptorType";
    private static readonly XName X509Certificate = XNamespace.Get("http://www.w3.org/2000/09/xmldsig#") + "X509Certificate";

    /// <summary>
    /// The element re-encrypted to <paramref name="current"/> (null when it needs no change or cannot be read), what
    /// it needed, and the thumbprint of the certificate it needs when that is not configured.
    /// </summary>
    public static (string? Replacement, KeyRingEntryState State, string? MissingThumbprint) Rewrap(
        string stored, X509Certificate2 current, IReadOnlyCollection<string> decryptable, IXmlDecryptor decryptor, IXmlEncryptor encryptor)
    {
        var element = XElement.Parse(stored);
        var state = KeyRingEntryState.NoSecret;
        foreach (var secret in element.DescendantsAndSelf(EncryptedSecret).ToList())
        {
            var encrypted = secret.Elements().Single();
            var type = (string?)secret.Attribute(DecryptorType) ?? "";
            if (type.StartsWith(typeof(NullXmlDecryptor).FullName!, StringComparison.Ordinal))
            {
                // "Encrypted" with the null encryptor is plaintext in another wrapper.
                secret.ReplaceWith(new NullXmlDecryptor().Decrypt(encrypted));
                state = KeyRingEntryState.Encrypted;
                continue;
            }

            var thumbprint = ThumbprintOf(encrypted);
            if (!type.StartsWith(typeof(EncryptedXmlDecryptor).FullName!, StringComparison.Ordinal) || thumbprint is null)
            {
                return (null, KeyRingEntryState.Unreadable, thumbprint);
            }

            if (string.Equals(thumbprint, current.Thumbprint, StringComparison.OrdinalIgnoreCase))
            {
                state = state == KeyRingEntryState.NoSecret ? KeyRingEntryState.Current : state;
                continue;
            }

            if (!decryptable.Contains(thumbprint, StringComparer.OrdinalIgnoreCase))
            {
                return (null, KeyRingEntryState.Unreadable, thumbprint);
            }

            try
            {
                secret.ReplaceWith(decryptor.Decrypt(encrypted));
            }
            catch (CryptographicException)
            {
                return (null, KeyRingEntryState.Unreadable, thumbprint);
            }

            state = KeyRingEntryState.Rewrapped;
        }

        var plain = element.DescendantsAndSelf().Where(e => (string?)e.Attribute(RequiresEncryption) == "true").ToList();
        if (plain.Count == 0)
        {
            return (null, state, null);
        }

        foreach (var secret in plain)
        {
            var info = encryptor.Encrypt(new XElement(secret));
            var wrapped = new XElement(EncryptedSecret, new XAttribute(DecryptorType, info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement);

            // Never replace a readable key with one that cannot be read back (the key material is the element's text).
            var back = decryptor.Decrypt(new XElement(info.EncryptedElement));
            if (back.Name != secret.Name || !string.Equals(back.Value, secret.Value, StringComparison.Ordinal))
            {
                throw new CryptographicException("A re-encrypted key did not decrypt to the original; the key ring was left unchanged.");
            }

            secret.ReplaceWith(wrapped);
        }

        return (element.ToString(SaveOptions.DisableFormatting), state == KeyRingEntryState.Rewrapped ? state : KeyRingEntryState.Encrypted, null);
    }

    private static string? ThumbprintOf(XElement encrypted)
    {
        var base64 = encrypted.Descendants(X509Certificate).Select(e => e.Value).FirstOrDefault();
        if (base64 is null)
        {
            return null;
        }

        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64));
            return certificate.Thumbprint;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null;
        }
    }
}
