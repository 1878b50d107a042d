using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anchor.Orleans.Grains.Tests.Profiles;

/// <summary>Re-encrypting stored key-ring elements to the current certificate, element by element, without a host.</summary>
public sealed class KeyRingRewrapTests : IDisposable
{
    private const string KeyValue = "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWJjZGVm";
    private static readonly XNamespace DataProtection = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XNamespace Dsig = "http://www.w3.org/2000/09/xmldsig#";

    private readonly X509Certificate2 _old = TestCertificates.Create("rewrap-old");
    private readonly X509Certificate2 _current = TestCertificates.Create("rewrap-current");
    private readonly X509Certificate2 _unknown = TestCertificates.Create("rewrap-unknown");
    private readonly ServiceProvider _services;
    private readonly IXmlDecryptor _decryptor;

    public KeyRingRewrapTests()
    {
        var services = new ServiceCollection();
        services.AddDataProtection().UnprotectKeysWithAnyCertificate(_old, _current, _unknown);
        _services = services.BuildServiceProvider();
        _decryptor = new EncryptedXmlDecryptor(_services);
    }

    private string[] Decryptable => [_current.Thumbprint, _old.Thumbprint];

    [Fact]
    public void PlainKey_IsEncryptedToTheCurrentCertificate_AndDecryptsToTheSameKey()
    {
        var (replacement, state, missing) = Rewrap(PlainKey());

        Assert.Equal((KeyRingEntryState.Encrypted, null), (state, missing));
        Assert.DoesNotContain("masterKey", replacement, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyValue, replacement, StringComparison.Ordinal);
        Assert.Equal(_current.Thumbprint, EncryptedTo(replacement!));
        Assert.Equal(KeyValue, DecryptedValue(replacement!));
    }

    [Fact]
    public void KeyOfAPreviousCertificate_IsReencrypted_AndAKeyOfTheCurrentOneIsLeftAlone()
    {
        var old = EncryptTo(_old, PlainKey());

        var (replacement, state, _) = Rewrap(old);
        var again = Rewrap(replacement!);

        Assert.Equal(KeyRingEntryState.Rewrapped, state);
        Assert.Equal((_current.Thumbprint, KeyValue), (EncryptedTo(replacement!), DecryptedValue(replacement!)));
        Assert.Equal((null, KeyRingEntryState.Current, null), again);
    }

    [Fact]
    public void KeyOfAnUnconfiguredCertificate_IsLeftAsItIs_AndNamesTheCertificateItNeeds()
    {
        var foreign = EncryptTo(_unknown, PlainKey());

        Assert.Equal((null, KeyRingEntryState.Unreadable, _unknown.Thumbprint), Rewrap(foreign));
    }

    [Fact]
    public void KeyWrappedByTheNullEncryptor_IsPlaintext_AndGetsEncrypted()
    {
        var key = XElement.Parse(PlainKey());
        var masterKey = key.Descendants("masterKey").Single();
        var info = new NullXmlEncryptor().Encrypt(masterKey);
        masterKey.ReplaceWith(new XElement(DataProtection + "encryptedSecret", new XAttribute("decryptorType", info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement));

        var (replacement, state, _) = Rewrap(key.ToString());

        Assert.Equal(KeyRingEntryState.Encrypted, state);
        Assert.Equal((_current.Thumbprint, KeyValue), (EncryptedTo(replacement!), DecryptedValue(replacement!)));
    }

    [Fact]
    public void Revocation_HoldsNoSecret_AndIsLeftAlone()
    {
        const string revocation = """<revocation version="1"><revocationDate>2026-12-01T00:00:00Z</revocationDate><key id="11111111-2222-3333-4444-555555555555" /><reason>rotated</reason></revocation>""";

        Assert.Equal((null, KeyRingEntryState.NoSecret, null), Rewrap(revocation));
    }

    public void Dispose()
    {
        _services.Dispose();
        _old.Dispose();
        _current.Dispose();
        _unknown.Dispose();
    }

    private (string? Replacement, KeyRingEntryState State, string? Missing) Rewrap(string stored) =>
        KeyRingRewrap.Rewrap(stored, _current, Decryptable, _decryptor, new CertificateXmlEncryptor(_current, NullLoggerFactory.Instance));

    /// <summary>A key as Data Protection stores it without an encryptor.</summary>
    private static string PlainKey() => $$"""
        <key id="0f6c1d2e-3b4a-4c5d-8e9f-001122334455" version="1">
          <creationDate>2026-12-01T00:00:00Z</creationDate>
          <activationDate>2026-12-01T00:00:00Z</activationDate>
          <expirationDate>2027-03-01T00:00:00Z</expirationDate>
          <descriptor deserializerType="Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel.AuthenticatedEncryptorDescriptorDeserializer, Microsoft.AspNetCore.DataProtection">
            <descriptor>
              <encryption algorithm="AES_256_CBC" />
              <validation algorithm="HMACSHA256" />
              <masterKey p4:requiresEncryption="true" xmlns:p4="http://schemas.asp.net/2015/03/dataProtection">
                <!-- Warning: the key below is in an unencrypted form. -->
                <value>{{KeyValue}}</value>
              </masterKey>
            </descriptor>
          </descriptor>
        </key>
        """;

    private static string EncryptTo(X509Certificate2 certificate, string plain)
    {
        var key = XElement.Parse(plain);
        var masterKey = key.Descendants("masterKey").Single();
        var info = new CertificateXmlEncryptor(certificate, NullLoggerFactory.Instance).Encrypt(masterKey);
        masterKey.ReplaceWith(new XElement(DataProtection + "encryptedSecret", new XAttribute("decryptorType", info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement));
        return key.ToString();
    }

    private static string EncryptedTo(string stored)
    {
        var base64 = Assert.Single(XElement.Parse(stored).Descendants(Dsig + "X509Certificate")).Value;
        using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64));
        return certificate.Thumbprint;
    }

    private string DecryptedValue(string stored)
    {
        var secret = Assert.Single(XElement.Parse(stored).Descendants(DataProtection + "encryptedSecret"));
        return _decryptor.Decrypt(secret.Elements().Single()).Element("value")!.Value;
    }
}
