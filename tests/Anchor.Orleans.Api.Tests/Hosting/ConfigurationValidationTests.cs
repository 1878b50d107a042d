using System.Security.Cryptography.X509Certificates;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Silo;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Api.Tests.Hosting;

/// <summary>Each configuration rule, through the real host start-up: a bad value stops start with one line naming the key.</summary>
public sealed class ConfigurationValidationTests
{
    [Theory]
    [InlineData("Anchor:Sessions:CleanupIntervalSeconds", "0", "The field Anchor:Sessions:CleanupIntervalSeconds must be between 1 and 3600. (got '0')")]
    [InlineData("Anchor:Sessions:IdleTimeoutSeconds", "-5", "The field Anchor:Sessions:IdleTimeoutSeconds must be between 1 and 86400. (got '-5')")]
    [InlineData("Anchor:RateLimit:MaxRequests", "0", "The field Anchor:RateLimit:MaxRequests must be between 1 and 100000000. (got '0')")]
    [InlineData("Anchor:RateLimit:WindowSeconds", "0", "The field Anchor:RateLimit:WindowSeconds must be between 1 and 2678400. (got '0')")]
    [InlineData("Anchor:Budget:DailyLimitUsd", "0", "The field Anchor:Budget:DailyLimitUsd must be between 0.01 and 10000000. (got '0')")]
    [InlineData("Anchor:Budget:Thresholds:DailyCriticalPercent", "101", "The field Anchor:Budget:Thresholds:DailyCriticalPercent must be between 1 and 100. (got '101')")]
    [InlineData("Anchor:Pricing:ActionUsd", "-1", "The field Anchor:Pricing:ActionUsd must be between 0 and 1000. (got '-1')")]
    [InlineData("Anchor:Health:MemoryDegradedPercent", "0", "The field Anchor:Health:MemoryDegradedPercent must be between 0.01 and 100. (got '0')")]
    [InlineData("Anchor:Telemetry:TraceSamplingRatio", "1.5", "The field Anchor:Telemetry:TraceSamplingRatio must be between 0 and 1. (got '1.5')")]
    [InlineData("Anchor:Cluster:ClusterId", "bad id!", "The field Anchor:Cluster:ClusterId must match the regular expression '^[A-Za-z0-9._-]{1,64}$'. (got 'bad id!')")]
    [InlineData("Anchor:Browser:CdpEndpoint", "not a url", "Anchor:Browser:CdpEndpoint must be an absolute ws://, wss://, http:// or https:// URL.")]
    [InlineData("Anchor:Browser:AllowedHosts:0", "http://example.com/x", "Anchor:Browser:AllowedHosts holds 'http://example.com/x': a pattern is a host name such as example.com or *.example.com.")]
    [InlineData("Anchor:Browser:DnsServers:0", "dns.example.com", "Anchor:Browser:DnsServers holds 'dns.example.com': a server is an IP address with an optional port, such as 10.0.0.2 or 127.0.0.1:5353.")]
    [InlineData("Anchor:Browser:MaxSiloBytesPerMinute", "134217728", "Anchor:Browser:MaxSiloBytesPerMinute (134217728) must be at least Anchor:Browser:MaxSessionBytesPerMinute (268435456): one session alone may use its whole budget.")]
    [InlineData("Anchor:Alerts:Slack:WebhookUrl", "ftp://hooks.example/x", "Anchor:Alerts:Slack:WebhookUrl must be an absolute http:// or https:// URL.")]
    [InlineData("Anchor:Alerts:Webhook:Url", "relative/path", "Anchor:Alerts:Webhook:Url must be an absolute http:// or https:// URL.")]
    public async Task Start_FailsWithOneLineNamingTheKey_WhenAValueIsOutOfRange(string key, string value, string expected)
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new() { [key] = value });

        Assert.Equal([expected], failures);
    }

    [Fact]
    public async Task Start_NamesBothBoundsTheSessionBudgetMustHold_WhenItIsBelowThem()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new() { ["Anchor:Browser:MaxSessionBytesPerMinute"] = "10485760" });

        Assert.Equal(
            [
                "Anchor:Browser:MaxSessionBytesPerMinute (10485760) must be at least Anchor:Browser:MaxResponseBytes (52428800): a response that Browser:MaxResponseBytes allows must fit in a session's budget.",
                "Anchor:Browser:MaxDownloadBytes (52428800) must be at most Anchor:Browser:MaxSessionBytesPerMinute (10485760): a download's bytes count in the session's budget.",
            ],
            failures);
    }

    [Fact]
    public async Task Start_ListsEveryProblem_WhenSeveralSectionsAreWrong()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new()
        {
            ["Anchor:Sessions:MaxConcurrent"] = "2",
            ["Anchor:Sessions:MaxPerClient"] = "3",
            ["Anchor:Sessions:MaxDurationSeconds"] = "60",
            ["Anchor:Sessions:ActionTimeoutSeconds"] = "120",
            ["Anchor:Budget:DailyLimitUsd"] = "300",
            ["Anchor:Budget:MonthlyLimitUsd"] = "200",
            ["Anchor:Budget:Thresholds:MonthlyWarningPercent"] = "90",
        });

        Assert.Equal(
            [
                "Anchor:Budget:DailyLimitUsd (300) must not exceed Anchor:Budget:MonthlyLimitUsd (200).",
                "Anchor:Budget:Thresholds:MonthlyWarningPercent (90) must be below MonthlyCriticalPercent (80).",
                "Anchor:Sessions:ActionTimeoutSeconds (120) must not exceed Anchor:Sessions:MaxDurationSeconds (60).",
                "Anchor:Sessions:MaxPerClient (3) must not exceed Anchor:Sessions:MaxConcurrent (2).",
            ],
            failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Start_RefusesProduction_WithoutRedisOrApiKeys()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync([], "Production");

        Assert.Equal(
            [
                "Anchor:Auth:ApiKeys is empty: Production needs at least one API key.",
                "Anchor:Clustering:Provider must be Redis in Production (got 'Localhost'): localhost clustering is for one development process.",
                KeyRingRequired("Production"),
                "Anchor:Storage:Provider must be Redis in Production (got 'Memory'): in-memory state loses budgets and the emergency switch on restart.",
            ],
            failures.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task Start_RefusesAnUnencryptedKeyRing_OutsideDevelopment_NamingTheKey(string environment)
    {
        var settings = ProductionLike();
        settings.Remove("Anchor:DataProtection:KeyCertificatePath");

        var failures = await AnchorAppHost.StartupFailuresAsync(settings, environment);

        Assert.Equal([KeyRingRequired(environment)], failures);
    }

    [Fact]
    public async Task Start_RefusesKeyRingCertificates_ThatCannotBeUsed_OneLineEach()
    {
        var certificate = TestCertificates.Create("refused");
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));
        var publicOnlyPem = TestCertificates.WriteFile(publicOnly.ExportCertificatePem(), ".pem");
        var protectedPfx = TestCertificates.WritePfx(certificate, "right-password");
        var wrongPassword = TestCertificates.WriteFile("wrong-password\n");
        var settings = ProductionLike();
        settings["Anchor:DataProtection:KeyCertificatePath"] = publicOnlyPem;
        settings["Anchor:DataProtection:PreviousKeyCertificates:0:Path"] = "/nonexistent/keyring.pfx";
        settings["Anchor:DataProtection:PreviousKeyCertificates:1:Path"] = protectedPfx;
        settings["Anchor:DataProtection:PreviousKeyCertificates:1:PasswordPath"] = wrongPassword;

        var failures = await AnchorAppHost.StartupFailuresAsync(settings, "Production");

        Assert.Equal(
            [
                $"Anchor:DataProtection:KeyCertificatePath ('{publicOnlyPem}') could not be read: it must be a PKCS#12 file (.pfx, .p12) or a PEM certificate with its private key (in the file or in Anchor:DataProtection:KeyCertificateKeyPath), and Anchor:DataProtection:KeyCertificatePasswordPath must hold its password if it has one.",
                "Anchor:DataProtection:PreviousKeyCertificates:0:Path names '/nonexistent/keyring.pfx', which does not exist: mount the secret that holds it (see docs/runbooks/key-ring-rotation.md).",
                $"Anchor:DataProtection:PreviousKeyCertificates:1:Path ('{protectedPfx}') could not be read: it must be a PKCS#12 file (.pfx, .p12) or a PEM certificate with its private key (in the file or in Anchor:DataProtection:PreviousKeyCertificates:1:KeyPath), and Anchor:DataProtection:PreviousKeyCertificates:1:PasswordPath must hold its password if it has one.",
            ],
            failures);
        Assert.DoesNotContain(failures, f => f.Contains("wrong-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_AcceptsTheKeyRingCertificate_AsPemPairOrPasswordProtectedPfx()
    {
        var certificate = TestCertificates.Create("accepted");
        var (pem, key) = TestCertificates.WritePem(certificate);
        var settings = ProductionLike();
        settings["Anchor:DataProtection:KeyCertificatePath"] = pem;
        settings["Anchor:DataProtection:KeyCertificateKeyPath"] = key;
        settings["Anchor:DataProtection:PreviousKeyCertificates:0:Path"] = TestCertificates.WritePfx(certificate, "pfx-password");
        settings["Anchor:DataProtection:PreviousKeyCertificates:0:PasswordPath"] = TestCertificates.WriteFile("pfx-password\n");
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        settings["Anchor:Redis:ConnectionString"] = redis.ConnectionString;

        var failures = await AnchorAppHost.StartupFailuresAsync(settings, "Production");

        Assert.Empty(failures);
    }

    private static string KeyRingRequired(string environment) =>
        $"Anchor:DataProtection:KeyCertificatePath is required in {environment}: the Data Protection key ring that seals saved profiles is kept in Redis and must be encrypted with a certificate that is not. Mount a certificate with its RSA private key from a secret (PKCS#12, or PEM with Anchor:DataProtection:KeyCertificateKeyPath) and set this key to its path; docs/runbooks/key-ring-rotation.md shows how.";

    /// <summary>A configuration Production accepts, but for what a test takes away (Redis is never reached: validation stops first).</summary>
    private static Dictionary<string, string?> ProductionLike()
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Clustering:Provider"] = "Redis";
        settings["Anchor:Storage:Provider"] = "Redis";
        settings["Anchor:Redis:ConnectionString"] = "127.0.0.1:1,abortConnect=false";
        settings["Anchor:DataProtection:KeyCertificatePath"] = TestCertificates.SharedKeyRingPath;
        return settings;
    }

    [Fact]
    public async Task Start_RefusesStaging_WithTheDevelopmentKeys()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Anchor:Clustering:Provider"] = "Redis",
            ["Anchor:Storage:Provider"] = "Redis",
            ["Anchor:Redis:ConnectionString"] = "127.0.0.1:1",
            ["Anchor:DataProtection:KeyCertificatePath"] = TestCertificates.SharedKeyRingPath,
            ["Anchor:Auth:ApiKeys:0:ClientId"] = "dev-agent",
            ["Anchor:Auth:ApiKeys:0:Key"] = DevelopmentApiKeys.Agent,
            ["Anchor:Auth:ApiKeys:1:ClientId"] = "dev-operator",
            ["Anchor:Auth:ApiKeys:1:KeySha256"] = ApiKeyHash.HexOf(DevelopmentApiKeys.Operator),
            ["Anchor:Auth:ApiKeys:1:Role"] = "Operator",
        };

        var failures = await AnchorAppHost.StartupFailuresAsync(settings, "Staging");

        Assert.Equal(
            [
                "Anchor:Auth:ApiKeys:0 is a published development key: Staging refuses it. Generate a new key.",
                "Anchor:Auth:ApiKeys:1 is a published development key: Staging refuses it. Generate a new key.",
            ],
            failures);
    }

    [Fact]
    public async Task Start_RefusesRedisProvider_WithoutConnectionString()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new() { ["Anchor:Storage:Provider"] = "Redis" });

        Assert.Equal(["Anchor:Redis:ConnectionString is required when Clustering or Storage uses Redis."], failures);
    }

    [Fact]
    public async Task Start_RefusesClusterEndpoints_ThatCollide()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new()
        {
            ["Anchor:Cluster:SiloPort"] = "40001",
            ["Anchor:Cluster:GatewayPort"] = "40001",
            ["Anchor:Cluster:AdvertisedIPAddress"] = "not-an-ip",
        });

        Assert.Equal(
            [
                "Anchor:Cluster:AdvertisedIPAddress must be an IP address (got 'not-an-ip').",
                "Anchor:Cluster:SiloPort and Anchor:Cluster:GatewayPort must differ (both 40001).",
            ],
            failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Start_RefusesMalformedApiKeys_WithOneLineEach()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync(new()
        {
            ["Anchor:Auth:ApiKeys:0:ClientId"] = "has space",
            ["Anchor:Auth:ApiKeys:0:Key"] = "long-enough-key-0001",
            ["Anchor:Auth:ApiKeys:1:ClientId"] = "short",
            ["Anchor:Auth:ApiKeys:1:Key"] = "tiny",
            ["Anchor:Auth:ApiKeys:2:ClientId"] = "both",
            ["Anchor:Auth:ApiKeys:2:Key"] = "long-enough-key-0002",
            ["Anchor:Auth:ApiKeys:2:KeySha256"] = ApiKeyHash.HexOf("long-enough-key-0002"),
            ["Anchor:Auth:ApiKeys:3:ClientId"] = "badhash",
            ["Anchor:Auth:ApiKeys:3:KeySha256"] = "abc",
            ["Anchor:Auth:ApiKeys:4:ClientId"] = "again",
            ["Anchor:Auth:ApiKeys:4:KeySha256"] = ApiKeyHash.HexOf("long-enough-key-0001"),
        });

        Assert.Equal(
            [
                "Anchor:Auth:ApiKeys:0:ClientId must be 1-64 characters of letters, digits, '.', '_' or '-' (got 'has space').",
                "Anchor:Auth:ApiKeys:1:Key is shorter than 16 characters.",
                "Anchor:Auth:ApiKeys:2 must set exactly one of Key or KeySha256.",
                "Anchor:Auth:ApiKeys:3:KeySha256 must be 64 hexadecimal characters (the SHA-256 of the key).",
                "Anchor:Auth:ApiKeys:4 repeats a key given earlier in the list.",
            ],
            failures);
    }

    [Fact]
    public async Task Start_Succeeds_WithDefaultsInDevelopment()
    {
        var failures = await AnchorAppHost.StartupFailuresAsync([]);

        Assert.Empty(failures);
    }
}
