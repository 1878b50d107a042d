using System.Globalization;
using System.Net.Http.Headers;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Anchor.Orleans.Testing;

/// <summary>
/// The real silo application (Orleans and the HTTP front), started in this process on 127.0.0.1 with a free
/// HTTP port and free silo/gateway ports, configured through command-line overrides exactly as an operator would.
/// </summary>
public sealed class AnchorAppHost : IAsyncDisposable
{
    private readonly List<HttpClient> _clients = [];
    private WebApplication? _app;

    private AnchorAppHost(WebApplication app, LogCapture logs, Uri baseAddress, IReadOnlyDictionary<string, string?> settings)
    {
        _app = app;
        Logs = logs;
        BaseAddress = baseAddress;
        Settings = settings;
    }

    public WebApplication App => _app ?? throw new ObjectDisposedException(nameof(AnchorAppHost));

    public IServiceProvider Services => App.Services;

    public LogCapture Logs { get; }

    public Uri BaseAddress { get; }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    /// <summary>Builds the app with <paramref name="settings"/> layered over the defaults, without starting it.</summary>
    public static WebApplication Build(
        IDictionary<string, string?>? settings,
        string environment,
        LogCapture logs,
        Action<WebApplicationBuilder>? configure,
        out Dictionary<string, string?> effective)
    {
        effective = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Anchor:Cluster:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Anchor:Cluster:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Anchor:Cluster:ClusterId"] = $"test-{Guid.NewGuid():N}",
            // Tests stop hosts with sessions open; the drain itself is tested on the real executable.
            ["Anchor:Shutdown:DrainSeconds"] = "0",
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore.Authorization"] = "Information",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            effective[key] = value;
        }

        var args = new List<string> { $"--environment={environment}" };
        args.AddRange(effective.Select(kv => $"--{kv.Key}={kv.Value}"));
        return SiloApplication.Build([.. args], builder =>
        {
            // Behind the app's redaction, as every real sink is: the capture holds what an operator's logs would.
            builder.Services.AddSingleton<ILoggerProvider>(sp => new RedactingLoggerProvider(logs, sp.GetRequiredService<SecretValues>()));
            configure?.Invoke(builder);
        });
    }

    public static async Task<AnchorAppHost> StartAsync(
        IDictionary<string, string?>? settings = null,
        string environment = "Development",
        Action<WebApplicationBuilder>? configure = null)
    {
        var logs = new LogCapture();
        var app = Build(settings, environment, logs, configure, out var effective);
        try
        {
            await StartOutsideTestContextAsync(app, CancellationToken.None);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new AnchorAppHost(app, logs, new Uri(address.TrimEnd('/') + "/"), effective);
    }

    /// <summary>
    /// Builds and starts the app with <paramref name="settings"/> and returns the configuration failures that stopped
    /// it, one line per problem as an operator would see them (empty when it started).
    /// </summary>
    public static async Task<IReadOnlyList<string>> StartupFailuresAsync(Dictionary<string, string?> settings, string environment = "Development")
    {
        await using var app = Build(settings, environment, new LogCapture(), null, out _);
        var error = await Record.ExceptionAsync(() => StartOutsideTestContextAsync(app, TestContext.Current.CancellationToken));
        if (error is null)
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
            return [];
        }

        return StartupGuard.ConfigurationFailures(error);
    }

    /// <summary>
    /// Starts <paramref name="app"/> without the test's execution context: its timers and background loops would capture
    /// it, and xunit's TestContext (an AsyncLocal) holds the class fixtures, so one pending timer kept every host of a run
    /// alive (4 GB of silo caches and metric points in the API suite).
    /// </summary>
    private static Task StartOutsideTestContextAsync(WebApplication app, CancellationToken cancellationToken)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return app.StartAsync(cancellationToken);
        }
    }

    /// <summary>Settings for a silo of a Redis-backed cluster (membership and storage in <paramref name="redis"/>).</summary>
    public static Dictionary<string, string?> RedisSettings(RedisServer redis, string clusterId) => new()
    {
        ["Anchor:Clustering:Provider"] = "Redis",
        ["Anchor:Storage:Provider"] = "Redis",
        ["Anchor:Redis:ConnectionString"] = redis.ConnectionString,
        ["Anchor:Cluster:ClusterId"] = clusterId,
        // Production refuses to keep the key ring unencrypted in Redis; every silo of a cluster shares the certificate.
        ["Anchor:DataProtection:KeyCertificatePath"] = TestCertificates.SharedKeyRingPath,
    };

    /// <summary>An HTTP client for this host, sending <paramref name="apiKey"/> as a bearer token when given.</summary>
    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        _clients.Add(client);
        return client;
    }

    /// <summary>
    /// Stops the app, then checks that nothing it logged contains a secret it was given or was sent (API keys,
    /// tokens, webhook URLs, routing keys): every test that hosts the app is also a secret-leak test.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        try
        {
            await App.StopAsync(CancellationToken.None);
        }
        finally
        {
            await App.DisposeAsync();
            // A disposed host may still be reachable (a fixture held by a pending timer's captured context): let its
            // services (silo caches, metric points, buffers) go with it.
            _app = null;
        }

        var logged = Logs.AllText;
        var leaked = SecretsOf(Settings).Where(secret => logged.Contains(secret, StringComparison.Ordinal)).ToList();
        if (leaked.Count > 0)
        {
            throw new InvalidOperationException($"The app logged {leaked.Count} secret value(s) it was configured with or sent (keys, tokens or webhook URLs).");
        }
    }

    /// <summary>Secret values among the settings, plus the raw test keys clients present.</summary>
    public static IEnumerable<string> SecretsOf(IReadOnlyDictionary<string, string?> settings) =>
        settings
            .Where(kv => kv.Value is { Length: >= 8 } && (kv.Key.EndsWith(":Key", StringComparison.Ordinal)
                || kv.Key.EndsWith(":Token", StringComparison.Ordinal)
                || kv.Key.EndsWith(":WebhookUrl", StringComparison.Ordinal)
                || kv.Key.EndsWith(":RoutingKey", StringComparison.Ordinal)
                || kv.Key.EndsWith("Alerts:Webhook:Url", StringComparison.Ordinal)))
            .Select(kv => kv.Value!)
            .Concat(settings.Where(kv => kv.Key.EndsWith(":ConnectionString", StringComparison.Ordinal) && kv.Value is not null)
                .SelectMany(kv => kv.Value!.Split(','))
                .Where(part => part.StartsWith("password=", StringComparison.OrdinalIgnoreCase))
                .Select(part => part["password=".Length..]))
            .Concat([TestKeys.Agent, TestKeys.OtherAgent, TestKeys.Operator])
            .Distinct();
}
