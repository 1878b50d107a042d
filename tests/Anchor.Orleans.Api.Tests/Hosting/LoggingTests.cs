using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Tests.Hosting;

public sealed class LoggingTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Logs_CarryRequestAndClientScope_AndNeverTheKey()
    {
        const string wrongKey = "wrong-key-that-must-not-be-logged-7731";
        await using var host = await AnchorAppHost.StartAsync(TestKeys.Settings());

        using var forbidden = await host.CreateClient(TestKeys.Agent).GetAsync("/status", Ct);
        using var unauthorized = await host.CreateClient(wrongKey).GetAsync("/status", Ct);
        using var ok = await host.CreateClient(TestKeys.Operator).GetAsync("/status", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var requestId = forbidden.Headers.GetValues("X-Request-Id").Single();
        var denial = Assert.Single(host.Logs.Entries, e => e.Category == "Microsoft.AspNetCore.Authorization.DefaultAuthorizationService" && Equals(e.Scope("request_id"), requestId));
        Assert.Equal(TestKeys.AgentClient, denial.Scope("client_id"));

        var everything = host.Logs.AllText;
        foreach (var secret in new[] { TestKeys.Agent, TestKeys.Operator, TestKeys.OtherAgent, wrongKey })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Redaction_MasksConfiguredSecrets_InMessagesAndStructuredValues()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Anchor:Auth:ApiKeys:0:Key"] = "agent-secret-key-1234",
            ["Anchor:Alerts:Slack:WebhookUrl"] = "https://hooks.example.test/T000/B000/sekrit",
            ["Anchor:Redis:ConnectionString"] = "redis:6379,password=redis-pass-5678,ssl=true",
            ["Anchor:Sessions:MaxConcurrent"] = "5",
        }).Build();
        var capture = new LogCapture();
        using var provider = new RedactingLoggerProvider(capture, new SecretValues(configuration));
        var logger = provider.CreateLogger("test");

        logger.LogWarning("Posting to {Url} with key {Key}", "https://hooks.example.test/T000/B000/sekrit", "agent-secret-key-1234");
        logger.LogError("Redis said: auth failed for redis-pass-5678");

        Assert.Equal(
            ["Posting to [REDACTED] with key [REDACTED]", "Redis said: auth failed for [REDACTED]"],
            capture.Entries.Select(e => e.Message));
        Assert.Equal("[REDACTED]", capture.Entries.First().Field("Url"));
        Assert.Equal("[REDACTED]", capture.Entries.First().Field("Key"));
    }

    [Fact]
    public void Redaction_WrapsEveryLoggerProviderTheAppConfigures()
    {
        var app = AnchorAppHost.Build(TestKeys.Settings(), "Development", new LogCapture(), null, out _);

        var providers = app.Services.GetServices<ILoggerProvider>().ToList();

        Assert.Contains(providers, p => p is RedactingLoggerProvider);
        Assert.DoesNotContain(providers, p => p.GetType().Name == "ConsoleLoggerProvider");
    }

    [Theory]
    [InlineData("Development", "simple")]
    [InlineData("Staging", "json")]
    public void Console_UsesJsonOutsideDevelopment(string environment, string formatter)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Clustering:Provider"] = "Redis";
        settings["Anchor:Storage:Provider"] = "Redis";
        settings["Anchor:Redis:ConnectionString"] = "127.0.0.1:1";
        var app = AnchorAppHost.Build(settings, environment, new LogCapture(), null, out _);

        var options = app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;

        Assert.Equal(formatter, options.FormatterName);
    }
}

/// <summary>The redaction cases review found missing, one by one, on the real provider wrapper.</summary>
public sealed class SecretRedactionTests
{
    private static (LogCapture Capture, ILogger Logger, RedactingLoggerProvider Provider) Logger(Dictionary<string, string?> settings)
    {
        var capture = new LogCapture();
        var provider = new RedactingLoggerProvider(capture, new SecretValues(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        provider.SetScopeProvider(new LoggerExternalScopeProvider());
        return (capture, provider.CreateLogger("test"), provider);
    }

    [Fact]
    public void RedisPassword_AfterASpacedComma_AndShorterThan8_IsMasked_AsAWholeTokenOnly()
    {
        var (capture, logger, provider) = Logger(new() { ["Anchor:Redis:ConnectionString"] = "redis:6379, password = zqw7x ,ssl=true" });
        using var _ = provider;

        logger.LogWarning("Redis said: auth failed for zqw7x; zqw7xyz and azqw7x are other words");

        Assert.Equal("Redis said: auth failed for [REDACTED]; zqw7xyz and azqw7x are other words", Assert.Single(capture.Entries).Message);
    }

    [Fact]
    public void ExceptionText_IsMasked_ButKeepsItsType()
    {
        var (capture, logger, provider) = Logger(new() { ["Anchor:Alerts:PagerDuty:RoutingKey"] = "pd-routing-key-0042" });
        using var _ = provider;

        logger.LogError(new InvalidOperationException("posting with pd-routing-key-0042 failed"), "Delivery failed");

        var logged = Assert.Single(capture.Entries).Exception!;
        Assert.StartsWith("System.InvalidOperationException: posting with [REDACTED] failed", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("pd-routing-key-0042", logged, StringComparison.Ordinal);
    }

    [Fact]
    public void UrlCredentials_AreMasked_EvenWhenNotConfigured()
    {
        var (capture, logger, provider) = Logger([]);
        using var _ = provider;

        logger.LogInformation("Fetching {Url}", new Uri("http://alice:s3cr3t@example.test/path"));
        logger.LogInformation("Refused ftp://bob:hunter2@10.0.0.1/x and https://carol@example.test/");

        Assert.Equal(
            ["Fetching http://[REDACTED]@example.test/path", "Refused ftp://[REDACTED]@10.0.0.1/x and https://[REDACTED]@example.test/"],
            capture.Entries.Select(e => e.Message));
        Assert.Equal("http://[REDACTED]@example.test/path", capture.Entries.First().Field("Url"));
    }

    [Fact]
    public void CdpEndpoint_AndItsTokens_AreSecrets()
    {
        var (capture, logger, provider) = Logger(new() { ["Anchor:Browser:CdpEndpoint"] = "wss://cloud.example.test/devtools?token=cdp-tk1&region=eu" });
        using var _ = provider;

        logger.LogWarning("Connecting to wss://cloud.example.test/devtools?token=cdp-tk1&region=eu");
        logger.LogWarning("Provider rejected token cdp-tk1 in region eu");

        Assert.Equal(["Connecting to [REDACTED]", "Provider rejected token [REDACTED] in region eu"], capture.Entries.Select(e => e.Message));
    }

    [Fact]
    public void Scopes_ReadAsKeyValue_WithSecretsMasked()
    {
        var scopes = new List<string>();
        var inner = new ScopeTextProvider(scopes);
        using var provider = new RedactingLoggerProvider(inner, new SecretValues(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Anchor:Metrics:Token"] = "metrics-token-77aa" }).Build()));
        provider.SetScopeProvider(new LoggerExternalScopeProvider());
        var logger = provider.CreateLogger("test");

        using (logger.BeginScope(new Dictionary<string, object> { ["request_id"] = "r-1", ["client_id"] = "agent-a" }))
        using (logger.BeginScope(new Dictionary<string, object> { ["token"] = "metrics-token-77aa" }))
        {
            logger.LogInformation("hello");
        }

        Assert.Equal(["request_id=r-1, client_id=agent-a", "token=[REDACTED]"], scopes);
    }

    [Fact]
    public void ThrownException_HasItsMessageStackAndInnerTextMasked()
    {
        // The secret is also this class's helper name, so the thrown exception's stack holds it too.
        const string Secret = "ThrowWithRoutingKey4711";
        var inner = new ExceptionProvider();
        using var provider = new RedactingLoggerProvider(inner, new SecretValues(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Anchor:Alerts:PagerDuty:RoutingKey"] = Secret }).Build()));
        Exception thrown;
        try
        {
            ThrowWithRoutingKey4711();
            throw new UnreachableException();
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        Assert.Contains(Secret, thrown.StackTrace!, StringComparison.Ordinal);

        provider.CreateLogger("test").LogError(thrown, "Delivery failed");

        var logged = Assert.Single(inner.Exceptions);
        Assert.Equal("posting with [REDACTED] failed", logged.Message);
        Assert.Contains("[REDACTED]", logged.StackTrace!, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, logged.StackTrace!, StringComparison.Ordinal);
        var text = logged.ToString();
        Assert.StartsWith("System.InvalidOperationException: posting with [REDACTED] failed", text, StringComparison.Ordinal);
        Assert.Contains("System.Net.Http.HttpRequestException: the endpoint refused [REDACTED]", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWithRoutingKey4711() =>
        throw new InvalidOperationException("posting with ThrowWithRoutingKey4711 failed", new HttpRequestException("the endpoint refused ThrowWithRoutingKey4711"));

    /// <summary>Keeps the exceptions the wrapped provider was handed.</summary>
    private sealed class ExceptionProvider : ILoggerProvider
    {
        public List<Exception> Exceptions { get; } = [];

        public ILogger CreateLogger(string categoryName) => new ExceptionLogger(this);

        public void Dispose()
        {
        }

        private sealed class ExceptionLogger(ExceptionProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (exception is not null)
                {
                    owner.Exceptions.Add(exception);
                }
            }
        }
    }

    /// <summary>Records each scope as the simple console formatter writes it: its text.</summary>
    private sealed class ScopeTextProvider(List<string> texts) : ILoggerProvider, ISupportExternalScope
    {
        private readonly List<string> _texts = texts;
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ILogger CreateLogger(string categoryName) => new ScopeTextLogger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class ScopeTextLogger(ScopeTextProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), owner._texts);
        }

    }
}
