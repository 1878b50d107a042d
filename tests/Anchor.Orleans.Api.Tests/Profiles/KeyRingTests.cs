using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Anchor.Orleans.Api.Tests.Profiles;

/// <summary>
/// The Data Protection key ring at rest, as someone holding a Redis dump would read it: encrypted to a certificate
/// that is not in Redis, still opening saved profiles after restarts and a certificate rotation, and failing clearly
/// (not crashing) when the certificate is not the one that encrypted it. Each test has its own redis-server.
/// </summary>
public sealed class KeyRingTests
{
    private const string Client = "agent-a";
    private const string Cookie = "sid-7f3a91c2-at-rest";
    private static readonly string StorageState =
        $$"""{"cookies":[{"name":"sid","value":"{{Cookie}}","domain":"example.test","path":"/","expires":-1,"httpOnly":true,"secure":false,"sameSite":"Lax"}],"origins":[]}""";

    private static readonly XNamespace Dsig = "http://www.w3.org/2000/09/xmldsig#";

    [Fact]
    public async Task KeyRing_EncryptedToTheCertificate_HoldsNoPlainKey_AndItsProfileOpensAfterARestart()
    {
        await using var redis = await StartRedisAsync();
        var certificate = TestCertificates.Create("keyring-a");
        var pfx = TestCertificates.WritePfx(certificate, "pfx-pass");
        var password = TestCertificates.WriteFile("pfx-pass\n");
        var (pem, key) = TestCertificates.WritePem(certificate);

        await using (var first = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", pfx), ("Anchor:DataProtection:KeyCertificatePasswordPath", password)))
        {
            await Profiles(first).SaveAsync("login", StorageState, TestContext.Current.CancellationToken);
            Assert.DoesNotContain(first.Logs.Entries, e => e.Message.Contains("No XML encryptor configured", StringComparison.Ordinal));
        }

        var stored = Assert.Single(await RawKeyRingAsync(redis));
        AssertEncryptedTo(certificate, stored);

        // The same certificate, mounted the way a Kubernetes TLS Secret holds it (PEM certificate and key).
        await using var second = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", pem), ("Anchor:DataProtection:KeyCertificateKeyPath", key));
        Assert.Equal(StorageState, await Profiles(second).LoadAsync("login"));
        Assert.Equal([stored], await RawKeyRingAsync(redis));
        Assert.Contains(second.Logs.Entries, e => e.Level == LogLevel.Information && e.Message == $"Key ring: 1 entries, encrypted to certificate {certificate.Thumbprint}: 1 already were, 0 re-encrypted from a previous certificate, 0 were unencrypted and now are; 0 need a certificate this silo does not have");
    }

    [Fact]
    public async Task PlainKeyRing_OfDevelopment_IsLoggedByDataProtection_AndEncryptedAtTheFirstStartWithACertificate()
    {
        await using var redis = await StartRedisAsync();
        await using (var plain = await StartAsync(redis))
        {
            await Profiles(plain).SaveAsync("login", StorageState, TestContext.Current.CancellationToken);

            // Development keeps working without a certificate, and Data Protection's own warning is not filtered out.
            Assert.Contains(plain.Logs.Entries, e => e.Level == LogLevel.Warning
                && e.Category == "Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager"
                && e.Message.StartsWith("No XML encryptor configured. Key {", StringComparison.Ordinal));
        }

        var before = Assert.Single(await RawKeyRingAsync(redis));
        Assert.Contains("<masterKey", before, StringComparison.Ordinal);
        Assert.Contains("<value>", before, StringComparison.Ordinal);

        var certificate = TestCertificates.Create("keyring-first");
        await using var encrypted = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", TestCertificates.WritePfx(certificate)));

        AssertEncryptedTo(certificate, Assert.Single(await RawKeyRingAsync(redis)));
        Assert.Equal(StorageState, await Profiles(encrypted).LoadAsync("login"));
        Assert.Contains(encrypted.Logs.Entries, e => e.Message == $"Key ring: 1 entries, encrypted to certificate {certificate.Thumbprint}: 0 already were, 0 re-encrypted from a previous certificate, 1 were unencrypted and now are; 0 need a certificate this silo does not have");
    }

    [Fact]
    public async Task Profile_SealedUnderAnotherCertificate_IsRefusedClearly_AndTheSiloKeepsServing()
    {
        await using var redis = await StartRedisAsync();
        var original = TestCertificates.Create("keyring-original");
        await using (var first = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", TestCertificates.WritePfx(original))))
        {
            await Profiles(first).SaveAsync("login", StorageState, TestContext.Current.CancellationToken);
        }

        var stranger = TestCertificates.Create("keyring-stranger");
        await using var second = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", TestCertificates.WritePfx(stranger)));

        var refused = await Assert.ThrowsAsync<AnchorException>(() => Profiles(second).LoadAsync("login"));
        Assert.Equal(
            (ErrorCodes.InvalidArgument, "invalid_argument: the saved profile 'login' can no longer be opened (the key that sealed it is not available); save it again from a logged-in session."),
            (refused.Code, refused.Message));
        Assert.Contains(second.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message == $"Key ring: 1 keys are encrypted to certificates {original.Thumbprint} that are not configured (current {stranger.Thumbprint}); profiles they sealed cannot be opened until one of them is added as a previous certificate (docs/runbooks/key-ring-rotation.md)");
        Assert.Contains(second.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message == "Profile login of agent-a cannot be unsealed: the Data Protection key that sealed it is not readable with the configured key ring certificates (docs/runbooks/key-ring-rotation.md)");

        // The silo still seals and opens: a new key, encrypted to the certificate it has, joined the ring.
        await Profiles(second).SaveAsync("again", StorageState, TestContext.Current.CancellationToken);
        Assert.Equal(StorageState, await Profiles(second).LoadAsync("again"));
        var ring = await RawKeyRingAsync(redis);
        Assert.Equal([original.Thumbprint, stranger.Thumbprint], ring.Select(EncryptedTo));
    }

    [Fact]
    public async Task Rotation_ReencryptsTheRingToTheNewCertificate_SoTheOldOneCanBeDropped()
    {
        await using var redis = await StartRedisAsync();
        var old = TestCertificates.Create("keyring-old");
        var oldPath = TestCertificates.WritePfx(old);
        await using (var first = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", oldPath)))
        {
            await Profiles(first).SaveAsync("login", StorageState, TestContext.Current.CancellationToken);
        }

        // Step 2 of the runbook: the new certificate is current, the old one previous.
        var next = TestCertificates.Create("keyring-new");
        var nextPath = TestCertificates.WritePfx(next);
        await using (var rotated = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", nextPath), ("Anchor:DataProtection:PreviousKeyCertificates:0:Path", oldPath)))
        {
            Assert.Equal(StorageState, await Profiles(rotated).LoadAsync("login"));
            Assert.Contains(rotated.Logs.Entries, e => e.Message == $"Key ring: 1 entries, encrypted to certificate {next.Thumbprint}: 0 already were, 1 re-encrypted from a previous certificate, 0 were unencrypted and now are; 0 need a certificate this silo does not have");
        }

        var stored = Assert.Single(await RawKeyRingAsync(redis));
        AssertEncryptedTo(next, stored);

        // Step 3: the old certificate is gone, and the profile it once protected still opens.
        await using var dropped = await StartAsync(redis, ("Anchor:DataProtection:KeyCertificatePath", nextPath));
        Assert.Equal(StorageState, await Profiles(dropped).LoadAsync("login"));
    }

    private static async Task<RedisServer> StartRedisAsync()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        return redis;
    }

    private static Task<AnchorAppHost> StartAsync(RedisServer redis, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Anchor:Storage:Provider"] = "Redis",
            ["Anchor:Redis:ConnectionString"] = redis.ConnectionString,
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return AnchorAppHost.StartAsync(all);
    }

    private static IClientProfilesGrain Profiles(AnchorAppHost host) =>
        host.Services.GetRequiredService<IGrainFactory>().GetGrain<IClientProfilesGrain>(Client);

    /// <summary>The key ring exactly as Redis holds it.</summary>
    private static async Task<IReadOnlyList<string>> RawKeyRingAsync(RedisServer redis)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = connection.GetDatabase();
        Assert.Equal(RedisType.List, await database.KeyTypeAsync(ProfilesRegistration.KeyRingKey));
        return [.. (await database.ListRangeAsync(ProfilesRegistration.KeyRingKey)).Select(v => v.ToString())];
    }

    private static void AssertEncryptedTo(X509Certificate2 certificate, string stored)
    {
        // No key material in the clear: Data Protection's plain form is <masterKey ...><value>base64</value></masterKey>.
        Assert.DoesNotContain("masterKey", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("<value>", stored, StringComparison.Ordinal);
        Assert.Contains("encryptedSecret", stored, StringComparison.Ordinal);
        Assert.Equal(certificate.Thumbprint, EncryptedTo(stored));
    }

    /// <summary>The thumbprint of the certificate an encrypted key names (the one that can decrypt it).</summary>
    private static string EncryptedTo(string stored)
    {
        var base64 = Assert.Single(XElement.Parse(stored).Descendants(Dsig + "X509Certificate")).Value;
        using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64));
        return certificate.Thumbprint;
    }
}
